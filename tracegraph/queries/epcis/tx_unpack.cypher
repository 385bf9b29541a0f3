// GENERATED from epcis/unpack.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// EPCIS aggregation DELETE: close the open PACKED_IN links into container r.t (all of its children
// when r.f is null, else only child r.f) that were opened at or before r.at: `to` = r.at. The link
// stays, so "as of" answers and derived shipments know what the container held before.
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
FOREACH (x IN links | SET x.to = r.at)
WITH h, count(r) AS written
// Then the links this step opened or closed are sealed ($sealed_<label>: [{c, o, from, line, seal}], predicted
// by engine/imports/merge_seals.py): a link whose stored line is not the predicted one is left
// unsealed, which `audit verify` reports, rather than sealed with a wrong seal. Container-in-container
// links are not sealed here (FalkorDB does not show, later in the same statement, the properties of
// an edge MERGEd between two nodes of one label): the entry names their containers instead.
UNWIND ($sealed_serial + [null]) AS z
OPTIONAL MATCH (c:Serial {id: z.c})-[p:PACKED_IN]->(o:Container {id: z.o})
WHERE coalesce(p.from, '') = z.from
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END |
  SET p.seal = CASE WHEN c.id + $us + o.id + $us + coalesce(toString(p.`from`), '') + $us + coalesce(toString(p.`to`), '') + $us + coalesce(toString(toInteger(round(p.`qty` * 1000000))), '') = z.line THEN z.seal ELSE null END, p.sealed_seq = $audit_entry.seq)
WITH h, count(*) AS sealed_serial_n
UNWIND ($sealed_batch + [null]) AS z
OPTIONAL MATCH (c:Batch {id: z.c})-[p:PACKED_IN]->(o:Container {id: z.o})
WHERE coalesce(p.from, '') = z.from
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END |
  SET p.seal = CASE WHEN c.id + $us + o.id + $us + coalesce(toString(p.`from`), '') + $us + coalesce(toString(p.`to`), '') + $us + coalesce(toString(toInteger(round(p.`qty` * 1000000))), '') = z.line THEN z.seal ELSE null END, p.sealed_seq = $audit_entry.seq)
WITH h, count(*) AS sealed_batch_n
WITH h, [] AS audit_targets
//#include audit.append
