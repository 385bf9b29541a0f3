MATCH (r:Recall)
WHERE ($status IS NULL OR r.status = $status) AND ($drill IS NULL OR coalesce(r.drill, false) = $drill)
RETURN properties(r) AS recall
ORDER BY r.created_at DESC
LIMIT $limit
