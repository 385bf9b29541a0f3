// Forward impact of the batches processed on one piece of equipment during a time window
// (any overlap of the PROCESSED_ON interval with [$t0, $t1]).
MATCH (:Equipment {id: $id})<-[p:PROCESSED_ON]-(b0:Batch)
WHERE p.`from` <= $t1 AND p.`to` >= $t0
WITH DISTINCT b0
MATCH (b0)-[:CONSUMED_IN*0..]->(b)
WITH DISTINCT b
MATCH (b)-[:PRODUCED]->(s0)
MATCH (s0)-[:COMPONENT_OF*0..]->(s)
WITH DISTINCT s
RETURN collect(s.id) AS serials,
       collect(DISTINCT CASE WHEN s.status IN ['in_transit', 'at_distributor', 'at_end_user'] THEN s.customer_id END) AS customers
