// Live named queries by name.
MATCH (q:NamedQuery) WHERE coalesce(q.retired, false) = false
RETURN properties(q) AS q
ORDER BY q.id
LIMIT $limit
