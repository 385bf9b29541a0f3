// GENERATED from epcis/pack_serial.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// EPCIS aggregation: (Serial)-[:PACKED_IN {from, to}]->(Container), one link per packing interval
// (`to` null while packed). A child is in one container at a time: packing it elsewhere closes
// its open link at the new `from`; an open link into the same container continues (OBSERVE,
// a re-import), taking the row's `to` when it has one.
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
OPTIONAL MATCH (c:Serial {id: r.f})
OPTIONAL MATCH (k:Container {id: r.t})
WITH h, r, c, k
OPTIONAL MATCH (c)-[old:PACKED_IN]->(o:Container)
WHERE old.to IS NULL AND o.id <> r.t AND coalesce(old.from, '') <= r.from
WITH h, r, c, k, collect(old) AS olds
FOREACH (x IN olds | SET x.to = r.from, x.seal = coalesce($seals[c.id + $us + endNode(x).id + $us + coalesce(x.from, '')], x.seal),
      x.sealed_seq = CASE WHEN $seals[c.id + $us + endNode(x).id + $us + coalesce(x.from, '')] IS NULL THEN x.sealed_seq ELSE $audit_entry.seq END)
WITH h, r, c, k
OPTIONAL MATCH (c)-[same:PACKED_IN]->(k)
WHERE same.to IS NULL AND coalesce(same.from, '') <= r.from
WITH h, r, c, k, collect(same) AS sames
FOREACH (x IN sames | SET x.to = coalesce(r.to, x.to), x.seal = coalesce($seals[c.id + $us + k.id + $us + coalesce(x.from, '')], x.seal),
      x.sealed_seq = CASE WHEN $seals[c.id + $us + k.id + $us + coalesce(x.from, '')] IS NULL THEN x.sealed_seq ELSE $audit_entry.seq END)
FOREACH (_ IN CASE WHEN c IS NULL OR k IS NULL OR size(sames) > 0 THEN [] ELSE [1] END |
  MERGE (c)-[p:PACKED_IN {from: r.from}]->(k)
  SET p.to = r.to, p.qty = r.qty, p.seal = coalesce($seals[c.id + $us + k.id + $us + r.from], p.seal),
      p.sealed_seq = CASE WHEN $seals[c.id + $us + k.id + $us + r.from] IS NULL THEN p.sealed_seq ELSE $audit_entry.seq END)
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
