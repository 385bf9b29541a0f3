//#include audit.guard
MATCH (a:RecallAlert {id: $id})
WHERE a.acknowledged_at IS NULL
SET a.acknowledged_at = $now, a.acknowledged_by = $actor_id
WITH h, [a] AS audit_targets
//#include audit.append
