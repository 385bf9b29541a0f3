// The regulator documents generated for one recall (RegulatoryDocument records), newest first.
MATCH (d:RegulatoryDocument)
WHERE d.recall_id = $id
RETURN properties(d) AS d
ORDER BY d.created_at DESC, d.id
