// GENERATED from epcis/edge_returned_in_container_return.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// EPCIS import: (Container)-[:RETURNED_IN]->(Return) edges. $rows: [{f, t, props}]. Rows whose ends are
// missing are skipped (OPTIONAL MATCH keeps the statement, and its audit entry, alive).
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (a:Container {id: r.f})
OPTIONAL MATCH (b:Return {id: r.t})
FOREACH (_ IN CASE WHEN a IS NULL OR b IS NULL THEN [] ELSE [1] END |
  MERGE (a)-[x:RETURNED_IN]->(b)
  SET x += r.props, x.seal = r.seal, x.sealed_seq = $audit_entry.seq)
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
