// The version of a controlled document in effect at a moment: effective_from <= at < effective_to.
MATCH (d:Document {doc_id: $doc_id})
WHERE d.effective_from IS NOT NULL AND d.effective_from <= $at
  AND (d.effective_to IS NULL OR d.effective_to > $at)
  AND coalesce(d.retired, false) = false
RETURN properties(d) AS props
ORDER BY d.effective_from DESC
LIMIT 1
