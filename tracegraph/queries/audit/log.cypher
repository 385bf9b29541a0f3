// History for `audit log`, newest first. Null filters match everything. $target also finds
// signatures of that record (their entries are about the Signature; $signed_needle is the
// JSON text of the record_key change, built by the engine from the key).
MATCH (e:AuditEntry)
WHERE ($target IS NULL OR e.target_key = $target OR e.changes CONTAINS $signed_needle)
  AND ($actor IS NULL OR e.actor = $actor)
  AND ($since IS NULL OR e.ts >= $since)
  AND ($until IS NULL OR e.ts <= $until)
  AND ($action IS NULL OR e.action = $action)
RETURN properties(e) AS e
ORDER BY e.seq DESC
LIMIT $limit
