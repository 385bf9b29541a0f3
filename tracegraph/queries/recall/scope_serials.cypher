// Serial units of the batches, the named serials, and assemblies they went into.
UNWIND $batches AS bid
MATCH (:Batch {id: bid})-[:PRODUCED]->(s:Serial)
RETURN s.id AS id, s.batch_id AS batch, s.status AS status, s.customer_id AS customer
UNION
UNWIND $serials AS sid
MATCH (s:Serial {id: sid})
RETURN s.id AS id, s.batch_id AS batch, s.status AS status, s.customer_id AS customer
UNION
UNWIND $batches AS bid
MATCH (:Batch {id: bid})-[:PRODUCED]->(:Serial)-[:COMPONENT_OF*1..5]->(s:Serial)
RETURN s.id AS id, s.batch_id AS batch, s.status AS status, s.customer_id AS customer
