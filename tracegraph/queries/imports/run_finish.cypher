// Mark a committing ImportRun committed, drop its commit log, release the import lock.
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = 'committing'
SET run.status = 'committed', run.result = $result, run.finished_at = $finished_at, run.steps_done = $steps_done
WITH h, run
OPTIONAL MATCH (lk:ImportLock {id: 'main'})
FOREACH (x IN CASE WHEN lk IS NOT NULL AND lk.holder = $import_id THEN [lk] ELSE [] END | SET x.holder = '')
WITH h, run
OPTIONAL MATCH (pp:ImportPending) WHERE pp.import_id = $import_id
DETACH DELETE pp
WITH h, run, count(pp) AS dropped
WITH h, [run] AS audit_targets
//#include audit.append
