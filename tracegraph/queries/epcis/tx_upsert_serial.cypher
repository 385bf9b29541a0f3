// GENERATED from epcis/upsert_serial.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// EPCIS import: create or update Serial nodes by key. $rows: [{id, create, props}]; `create`
// holds defaults set only on creation, `props` the facts the events state. One audited chunk.
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h
UNWIND $rows AS r
MERGE (n:Serial {id: r.id})
ON CREATE SET n += r.create, n.created_at = $now, n.source = r.src, n.import_id = $import_id
SET n += r.props, n.updated_at = $now, n.last_import_id = $import_id, n.seal = r.seal, n.sealed_seq = $audit_entry.seq
WITH h, count(n) AS written
WITH h, [] AS audit_targets
//#include audit.append
