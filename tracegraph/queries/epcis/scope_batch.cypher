// Export scope "a batch and its serials": the batch, its units, their containers and shipments.
MATCH (b:Batch {id: $id})
OPTIONAL MATCH (b)-[:PRODUCED]->(s:Serial)
WITH b, collect(DISTINCT s) AS units
WITH [b] + units AS nodes
UNWIND nodes AS n
OPTIONAL MATCH (n)-[pk:PACKED_IN]->(k:Container) WHERE pk.to IS NULL
OPTIONAL MATCH (n)-[:SHIPPED_IN]->(sh:Shipment)
WITH collect(DISTINCT n.id) AS a, collect(DISTINCT k.id) AS b2, collect(DISTINCT sh.id) AS c
RETURN a + b2 + c AS ids
