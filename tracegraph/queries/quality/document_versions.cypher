// Every version of one controlled document.
MATCH (d:Document {doc_id: $doc_id})
RETURN properties(d) AS props
ORDER BY d.id
