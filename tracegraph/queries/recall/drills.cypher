MATCH (d:RecallDrill)
RETURN properties(d) AS drill
ORDER BY d.started_at DESC
LIMIT $limit
