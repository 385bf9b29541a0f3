// The checkpoint of one tree size (newest first if several).
MATCH (c:Checkpoint {size: $size})
RETURN properties(c) AS c, c.id AS id, c.head_hash AS head_hash
ORDER BY c.ts DESC
