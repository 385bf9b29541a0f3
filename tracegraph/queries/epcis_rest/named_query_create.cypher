// A named EPCIS query (POST /queries): a stored SimpleEventQuery that subscriptions run.
//#include audit.guard
OPTIONAL MATCH (old:NamedQuery {id: $id})
WITH h, old WHERE old IS NULL
CREATE (q:NamedQuery)
SET q = $props
WITH h, [q] AS audit_targets
//#include audit.append
