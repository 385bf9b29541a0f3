// One page of the audit trail for a periodic review (Annex 11 §9): entries with
// $from <= ts < $to after seq $after, in seq order, filtered by user, record type, action
// (null filters match everything).
MATCH (e:AuditEntry)
WHERE e.seq > $after AND e.ts >= $from AND e.ts < $to
  AND ($actor IS NULL OR e.actor = $actor)
  AND ($label IS NULL OR e.target_label = $label)
  AND ($action IS NULL OR e.action = $action)
RETURN properties(e) AS e
ORDER BY e.seq
LIMIT $limit
