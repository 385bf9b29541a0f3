MATCH (r:Recall {id: $id})-[:COVERS]->(s:Serial)
RETURN s.id AS id
