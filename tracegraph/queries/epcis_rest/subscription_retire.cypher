// Unsubscribe (DELETE /queries/{name}/subscriptions/{id}); the record is kept, retired.
//#include audit.guard
MATCH (s:Subscription {id: $id, query: $query}) WHERE coalesce(s.retired, false) = false
SET s.retired = true, s.updated_at = $now
WITH h, [s] AS audit_targets
//#include audit.append
