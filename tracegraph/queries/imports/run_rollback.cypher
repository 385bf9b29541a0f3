// Close a rolled-back (or failed) ImportRun: drop its commit log, release the import lock.
// Its staged nodes were deleted before, chunk by chunk (imports.rollback_<Label>).
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = 'staging'
SET run.status = $result, run.result = $result, run.finished_at = $finished_at, run.error = $error
WITH h, run
OPTIONAL MATCH (lk:ImportLock {id: 'main'})
FOREACH (x IN CASE WHEN lk IS NOT NULL AND lk.holder = $import_id THEN [lk] ELSE [] END | SET x.holder = '')
WITH h, run
OPTIONAL MATCH (pp:ImportPending) WHERE pp.import_id = $import_id
DETACH DELETE pp
WITH h, run, count(pp) AS dropped
WITH h, [run] AS audit_targets
//#include audit.append
