// Covered units whose status or holder changed since the decision (the snapshot is not
// silently updated: these are shown as a difference).
MATCH (r:Recall {id: $id})-[cv:COVERS]->(s:Serial)
WHERE s.status <> cv.status_at_decision OR coalesce(s.customer_id, '') <> cv.customer_at_decision
RETURN s.id AS id, cv.status_at_decision AS status_at_decision, s.status AS status,
       cv.customer_at_decision AS customer_at_decision, s.customer_id AS customer, cv.disposition AS disposition
ORDER BY s.id
LIMIT $limit
