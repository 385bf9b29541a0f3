MATCH (b:Batch)-[:PRODUCED]->(s:Serial)
WITH b, count(s) AS n
ORDER BY n DESC, b.id
LIMIT 1
RETURN b.id AS id, n
