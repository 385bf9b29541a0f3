// Create one user (every property in $props), audited.
//#include audit.guard
CREATE (u:User)
SET u = $props
WITH h, [u] AS audit_targets
//#include audit.append
