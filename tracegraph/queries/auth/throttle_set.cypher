// Create or change one failed-login throttle (counter, delay window), audited in the same statement.
//#include audit.guard
MERGE (t:LoginThrottle {id: $id})
SET t += $props
WITH h, [t] AS audit_targets
//#include audit.append
