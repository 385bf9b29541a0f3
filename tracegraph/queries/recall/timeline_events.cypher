// The audit entries of one recall that move its effectiveness: customer notification steps
// (sent, acknowledged, ...) and returns, oldest first (engine/recall/timeline.py replays them).
MATCH (e:AuditEntry {target_key: $id})
WHERE e.target_label = 'Recall'
  AND (e.action STARTS WITH 'recall.customer.' OR e.action STARTS WITH 'recall.return.')
RETURN e.seq AS seq, e.ts AS ts, e.action AS action, e.changes AS changes
ORDER BY e.seq
