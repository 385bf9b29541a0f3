// Every checkpoint, newest first.
MATCH (c:Checkpoint)
RETURN properties(c) AS c
ORDER BY c.size DESC
LIMIT $limit
