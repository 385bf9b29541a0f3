MATCH (r:Recall {id: $id})-[cv:COVERS]->(b:Batch)
RETURN b.id AS id, b.product_id AS product, cv.qty AS qty, cv.serialised AS serialised,
       cv.status_at_decision AS status_at_decision, b.status AS status
ORDER BY b.id
