// GENERATED from epcis/unpack.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// EPCIS aggregation DELETE: close the open PACKED_IN links into container r.t (all of its children
// when r.f is null, else only child r.f) that were opened at or before r.at: `to` = r.at. The link
// stays, so "as of" answers and derived shipments know what the container held before.
// $seals: {child US container US from: seal} of every link this step opens or changes, predicted from
// the state before it (engine/imports/merge_seals.py); a link it writes without a prediction keeps its
// old seal, so `audit verify` reports it rather than accepting it.
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (c)-[p:PACKED_IN]->(k:Container {id: r.t})
WHERE p.to IS NULL AND (r.f IS NULL OR c.id = r.f) AND coalesce(p.from, '') <= r.at
WITH h, r, collect(p) AS links
FOREACH (x IN links | SET x.to = r.at, x.seal = coalesce($seals[startNode(x).id + $us + r.t + $us + coalesce(x.from, '')], x.seal),
      x.sealed_seq = CASE WHEN $seals[startNode(x).id + $us + r.t + $us + coalesce(x.from, '')] IS NULL THEN x.sealed_seq ELSE $audit_entry.seq END)
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
