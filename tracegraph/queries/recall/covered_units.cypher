// Serial units a recall covers, with their decision-time and current state.
MATCH (r:Recall {id: $id})-[cv:COVERS]->(s:Serial)
WHERE $customer IS NULL OR cv.customer_at_decision = $customer
RETURN s.id AS id, s.udi AS udi, cv.batch_id AS batch, s.product_id AS product,
       cv.status_at_decision AS status_at_decision, cv.customer_at_decision AS customer_at_decision,
       s.status AS status, s.customer_id AS customer, cv.disposition AS disposition
