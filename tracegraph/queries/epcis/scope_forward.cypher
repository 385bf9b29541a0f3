// Export scope "a lot's forward trace": everything the lot (or batch, by $label) $id reached
// through material flow, plus the containers and shipments of what it reached.
OPTIONAL MATCH (l:MaterialLot {id: $id})
OPTIONAL MATCH (b:Batch {id: $id})
WITH CASE $label WHEN 'MaterialLot' THEN l ELSE b END AS start
WHERE start IS NOT NULL
OPTIONAL MATCH (start)-[:CONSUMED_IN|SPLIT_INTO|MERGED_INTO|PRODUCED|COMPONENT_OF*1..30]->(x)
WITH start, collect(DISTINCT x) AS reached
WITH [start] + reached AS nodes
UNWIND nodes AS n
OPTIONAL MATCH (n)-[pk:PACKED_IN]->(k:Container) WHERE pk.to IS NULL
OPTIONAL MATCH (n)-[:SHIPPED_IN]->(sh:Shipment)
WITH collect(DISTINCT n.id) AS a, collect(DISTINCT k.id) AS b2, collect(DISTINCT sh.id) AS c
RETURN a + b2 + c AS ids
