// GENERATED from epcis/pack_serial.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// EPCIS aggregation: (Serial)-[:PACKED_IN]->(Container). A unit is in one container at a time, so
// packing it elsewhere first removes its other PACKED_IN edges.
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (c:Serial {id: r.f})
OPTIONAL MATCH (k:Container {id: r.t})
WITH h, r, c, k
OPTIONAL MATCH (c)-[old:PACKED_IN]->(o:Container) WHERE o.id <> r.t
DELETE old
WITH DISTINCT h, r, c, k
FOREACH (_ IN CASE WHEN c IS NULL OR k IS NULL THEN [] ELSE [1] END |
  MERGE (c)-[:PACKED_IN]->(k))
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
