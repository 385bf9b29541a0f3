// Create the first user only while there is none (`users init`), audited.
//#include audit.guard
OPTIONAL MATCH (other:User)
WITH h, count(other) AS existing
WHERE existing = 0
CREATE (u:User)
SET u = $props
WITH h, [u] AS audit_targets
//#include audit.append
