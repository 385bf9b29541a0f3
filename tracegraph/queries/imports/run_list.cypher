MATCH (run:ImportRun)
RETURN run
ORDER BY run.started_at DESC
LIMIT $limit
