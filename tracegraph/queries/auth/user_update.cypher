// Change properties of one user (status, roles, lockout counters, password hash), audited.
//#include audit.guard
MATCH (u:User {id: $id})
SET u += $props
WITH h, [u] AS audit_targets
//#include audit.append
