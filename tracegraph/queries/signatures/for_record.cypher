// Every signature of one record, oldest first.
MATCH (s:Signature)-[:SIGNED]->(n)
WHERE s.record_label = $label AND s.record_key = $key AND n.id = $key
RETURN properties(s) AS s
ORDER BY s.signed_at, s.id
