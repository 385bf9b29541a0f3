// GENERATED from epcis/unpack.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// EPCIS aggregation DELETE: remove PACKED_IN edges into container r.t (all of its children when
// r.f is null, else only child r.f).
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (c)-[p:PACKED_IN]->(k:Container {id: r.t})
WHERE r.f IS NULL OR c.id = r.f
DELETE p
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
