// What `tracegraph scan` shows about one unit: product, batch, holder, latest shipment, container.
MATCH (s:Serial {id: $id})
OPTIONAL MATCH (s)-[:OF]->(p:Product)
OPTIONAL MATCH (b:Batch)-[:PRODUCED]->(s)
OPTIONAL MATCH (c:Customer {id: s.customer_id})
OPTIONAL MATCH (s)-[pk:PACKED_IN]->(k:Container) WHERE pk.to IS NULL
OPTIONAL MATCH (s)-[:SHIPPED_IN]->(sh:Shipment)
WITH s, p, b, c, k, sh ORDER BY sh.date DESC
WITH s, p, b, c, k, collect(sh)[0] AS last
RETURN s AS node, p AS product, b AS batch, c AS customer, k AS container, last AS shipment
