// Revoke one token (logout), audited.
//#include audit.guard
MATCH (t:Token {id: $id})
WHERE t.revoked_at IS NULL
SET t.revoked_at = $now
WITH h, [t] AS audit_targets
//#include audit.append
