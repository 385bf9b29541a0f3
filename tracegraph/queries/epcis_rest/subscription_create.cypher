// A webhook subscription to a named query (POST /queries/{name}/subscriptions).
//#include audit.guard
MATCH (q:NamedQuery {id: $query}) WHERE coalesce(q.retired, false) = false
CREATE (s:Subscription)
SET s = $props
CREATE (s)-[:SUBSCRIBES_TO]->(q)
WITH h, [s] AS audit_targets
//#include audit.append
