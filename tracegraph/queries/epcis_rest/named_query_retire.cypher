// Retire a named query and end its subscriptions (DELETE /queries/{name}); records are kept.
//#include audit.guard
MATCH (q:NamedQuery {id: $id}) WHERE coalesce(q.retired, false) = false
SET q.retired = true, q.updated_at = $now
WITH h, q
OPTIONAL MATCH (s:Subscription {query: $id}) WHERE coalesce(s.retired, false) = false
WITH h, q, collect(s) AS subs
FOREACH (x IN subs | SET x.retired = true, x.updated_at = $now)
WITH h, [q] + subs AS audit_targets
//#include audit.append
