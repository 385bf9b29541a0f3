// Issue an API token for an active user: only its SHA-256 is stored. Audited.
//#include audit.guard
MATCH (u:User {id: $user_id})
WHERE u.status = 'active' AND coalesce(u.locked, false) = false
CREATE (t:Token)
SET t = $props
WITH h, [t, u] AS audit_targets
//#include audit.append
