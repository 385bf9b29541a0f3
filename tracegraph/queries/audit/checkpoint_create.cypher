// Store one signed checkpoint (tree size, head hash, Merkle root, time, Ed25519 signature),
// audited like every write. $props holds every property.
//#include audit.guard
CREATE (c:Checkpoint)
SET c = $props
WITH h, [c] AS audit_targets
//#include audit.append
