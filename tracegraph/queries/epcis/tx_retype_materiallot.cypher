// GENERATED from epcis/retype_materiallot.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// Order-independent EPCIS kinds (loaders/epcis_kinds.py): a lot an earlier EPCIS import stored as a
// MaterialLot is, by what later events say about it, a Batch. Its MaterialLot node goes, with its links, and (r.drop_of)
// the Material node only it named and an EPCIS import made; the same run writes the lot again as a Batch
// from every event that names it, so the graph is the one a single document of all of them gives.
// The mapping sends only lots an EPCIS import created and nothing but EPCIS facts refer to.
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (n:MaterialLot {id: r.id})
OPTIONAL MATCH (n)-[:OF]->(t:Material) WHERE r.drop_of = true
WITH h, r, n, collect(t) AS ts
FOREACH (x IN ts | DETACH DELETE x)
FOREACH (x IN CASE WHEN n IS NULL THEN [] ELSE [n] END | DETACH DELETE x)
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
