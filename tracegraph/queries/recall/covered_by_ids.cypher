UNWIND $ids AS sid
MATCH (r:Recall {id: $id})-[cv:COVERS]->(s:Serial {id: sid})
RETURN s.id AS id, cv.disposition AS disposition, cv.customer_at_decision AS customer_at_decision
