// Live subscriptions, of one query ($query) or of all (null), optionally only streaming ones.
MATCH (s:Subscription) WHERE coalesce(s.retired, false) = false
  AND ($query IS NULL OR s.query = $query) AND ($stream IS NULL OR s.stream = $stream)
RETURN properties(s) AS s
ORDER BY s.created_at, s.id
