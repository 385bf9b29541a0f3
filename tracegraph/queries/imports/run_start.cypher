// Take the single import lock and create the ImportRun (status staging), audited.
// Matches nothing (so writes nothing) while another import holds the lock.
//#include audit.guard
MERGE (lk:ImportLock {id: 'main'})
WITH h, lk WHERE coalesce(lk.holder, '') = ''
SET lk.holder = $import_id
CREATE (run:ImportRun)
SET run = $run
WITH h, [run] AS audit_targets
//#include audit.append
