MATCH (r:Recall {id: $id})
RETURN properties(r) AS recall
