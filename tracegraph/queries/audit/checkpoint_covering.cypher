// The smallest checkpoint whose tree contains entry $seq.
MATCH (c:Checkpoint)
WHERE c.size >= $seq
RETURN properties(c) AS c
ORDER BY c.size ASC
LIMIT 1
