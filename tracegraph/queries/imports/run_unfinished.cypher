MATCH (run:ImportRun) WHERE run.status IN ['staging', 'committing']
RETURN run
ORDER BY run.started_at
