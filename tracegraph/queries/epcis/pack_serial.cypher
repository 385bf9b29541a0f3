// EPCIS aggregation: (Serial)-[:PACKED_IN {from, to}]->(Container), one link per packing interval
// (`to` null while packed). A child is in one container at a time: packing it elsewhere closes
// its open link at the new `from`; an open link into the same container continues (OBSERVE,
// a re-import), taking the row's `to` when it has one.
//#include audit.guard
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (c:Serial {id: r.f})
OPTIONAL MATCH (k:Container {id: r.t})
WITH h, r, c, k
OPTIONAL MATCH (c)-[old:PACKED_IN]->(o:Container)
WHERE old.to IS NULL AND o.id <> r.t AND coalesce(old.from, '') <= r.from
WITH h, r, c, k, collect(old) AS olds
FOREACH (x IN olds | SET x.to = r.from)
WITH h, r, c, k
OPTIONAL MATCH (c)-[same:PACKED_IN]->(k)
WHERE same.to IS NULL AND coalesce(same.from, '') <= r.from
WITH h, r, c, k, collect(same) AS sames
FOREACH (x IN sames | SET x.to = coalesce(r.to, x.to))
FOREACH (_ IN CASE WHEN c IS NULL OR k IS NULL OR size(sames) > 0 THEN [] ELSE [1] END |
  MERGE (c)-[p:PACKED_IN {from: r.from}]->(k)
  SET p.to = r.to, p.qty = r.qty)
WITH h, count(r) AS written
// Then the links this step opened or closed are sealed ($sealed: [{c, o, from, line, seal}], predicted
// by engine/imports/merge_seals.py): a link whose stored line is not the predicted one is left
// unsealed, which `audit verify` reports, rather than sealed with a wrong seal.
UNWIND ($sealed + [null]) AS z
OPTIONAL MATCH (c:Serial {id: z.c})-[p:PACKED_IN]->(o:Container {id: z.o})
WHERE coalesce(p.from, '') = z.from
FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END |
  SET p.seal = CASE WHEN c.id + $us + o.id + $us + coalesce(toString(p.`from`), '') + $us + coalesce(toString(p.`to`), '') + $us + coalesce(toString(toInteger(round(p.`qty` * 1000000))), '') = z.line THEN z.seal ELSE null END, p.sealed_seq = $audit_entry.seq)
WITH h, count(*) AS sealed_n
WITH h, [] AS audit_targets
//#include audit.append
