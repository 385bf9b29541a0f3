MATCH (x:Signature)-[:SIGNED]->(r:Recall {id: $id})
RETURN properties(x) AS signature
ORDER BY x.signed_at
