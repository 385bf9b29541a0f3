// Late packing events (loaders/epcis_late.py): PACKED_IN links an earlier EPCIS import opened that the
// packing, worked out again from ALL the aggregation events of the units concerned, does not have (an
// OBSERVE into a case captured before the ADD into it opened a second interval; one document keeps
// one). $rows: [{f: child id, t: container id, from}]. The mapping sends only links without an
// `import_id` (EPCIS's own; the ERP import's staged links carry one).
//#include audit.guard
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (k:Container {id: r.t})<-[p:PACKED_IN]-(c)
WHERE c.id = r.f AND coalesce(p.from, '') = r.from AND p.import_id IS NULL
WITH h, r, collect(p) AS ps
FOREACH (x IN ps | DELETE x)
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
