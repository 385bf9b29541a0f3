// Shipments of non-serialised batches (quantities), classified by the engine.
UNWIND $batches AS bid
MATCH (b:Batch {id: bid})
OPTIONAL MATCH (b)-[:PRODUCED]->(x:Serial)
WITH b, count(x) AS serials
WHERE serials = 0
OPTIONAL MATCH (b)-[e:SHIPPED_IN]->(sh:Shipment)-[:DELIVERED_TO]->(c:Customer)
RETURN b.id AS batch, b.qty AS batch_qty, e.qty AS qty, sh.from_id AS from_id,
       sh.delivered_at AS delivered_at, c.id AS customer, c.kind AS kind
