// Recalls that are not closed or cancelled (alert evaluation, watch).
MATCH (r:Recall)
WHERE NOT r.status IN ['closed', 'cancelled']
RETURN properties(r) AS recall
ORDER BY r.created_at
