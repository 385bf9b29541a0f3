// GENERATED from epcis/pack_batch.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// EPCIS aggregation (childQuantityList): (Batch)-[:PACKED_IN {from, to, qty}]->(Container): a
// quantity of a lot packed into a container for an interval. A lot may be in several containers
// at once, so nothing else closes; an open link into the same container continues.
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (c:Batch {id: r.f})
OPTIONAL MATCH (k:Container {id: r.t})
WITH h, r, c, k
OPTIONAL MATCH (c)-[same:PACKED_IN]->(k)
WHERE same.to IS NULL AND coalesce(same.from, '') <= r.from
WITH h, r, c, k, collect(same) AS sames
FOREACH (x IN sames | SET x.to = coalesce(r.to, x.to), x.qty = coalesce(r.qty, x.qty))
FOREACH (_ IN CASE WHEN c IS NULL OR k IS NULL OR size(sames) > 0 THEN [] ELSE [1] END |
  MERGE (c)-[p:PACKED_IN {from: r.from}]->(k)
  SET p.to = r.to, p.qty = r.qty)
WITH h, count(r) AS written
// Then the links this step opened or closed are sealed ($sealed: [{c, o, from, line, seal}], predicted
// by engine/imports/merge_seals.py): a link whose stored line is not the predicted one is left
// unsealed, which `audit verify` reports, rather than sealed with a wrong seal.
UNWIND ($sealed + [null]) AS z
OPTIONAL MATCH (c:Batch {id: z.c})-[p:PACKED_IN]->(o:Container {id: z.o})
WHERE coalesce(p.from, '') = z.from
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END |
  SET p.seal = CASE WHEN c.id + $us + o.id + $us + coalesce(toString(p.`from`), '') + $us + coalesce(toString(p.`to`), '') + $us + coalesce(toString(toInteger(round(p.`qty` * 1000000))), '') = z.line THEN z.seal ELSE null END, p.sealed_seq = $audit_entry.seq)
WITH h, count(*) AS sealed_n
WITH h, [] AS audit_targets
//#include audit.append
