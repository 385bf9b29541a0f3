// Persist the commit-phase steps of an import (what touches data that existed before it).
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = 'staging'
UNWIND $steps AS s
CREATE (p:ImportPending)
SET p = s, p.import_id = $import_id, p.done = false
WITH h, run, count(p) AS written
WITH h, [run] AS audit_targets
//#include audit.append
