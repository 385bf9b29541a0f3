// How many batches are in each status, for the dashboard.
MATCH (b:Batch)
RETURN b.status AS status, count(b) AS c ORDER BY status
