// Capture jobs, newest first, keyset-paged on (created_at, id).
MATCH (j:CaptureJob)
WHERE $before_time IS NULL OR j.created_at < $before_time OR (j.created_at = $before_time AND j.id < $before_id)
RETURN properties(j) AS job
ORDER BY j.created_at DESC, j.id DESC
LIMIT $limit
