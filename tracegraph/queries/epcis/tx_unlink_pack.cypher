// GENERATED from epcis/unlink_pack.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// Late packing events (loaders/epcis_late.py): PACKED_IN links an earlier EPCIS import opened that the
// packing, worked out again from ALL the aggregation events of the units concerned, does not have (an
// OBSERVE into a case captured before the ADD into it opened a second interval; one document keeps
// one). $rows: [{f: child id, t: container id, from}]. The mapping sends only links without an
// `import_id` (EPCIS's own; the ERP import's staged links carry one).
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (k:Container {id: r.t})<-[p:PACKED_IN]-(c)
WHERE c.id = r.f AND coalesce(p.from, '') = r.from AND p.import_id IS NULL
WITH h, r, collect(p) AS ps
FOREACH (x IN ps | DELETE x)
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
