// Order-independent EPCIS kinds (loaders/epcis_kinds.py): a lot an earlier EPCIS import stored as a
// MaterialLot is, by what later events say about it, a Batch. Its MaterialLot node goes, with its links, and (r.drop_of)
// the Material node only it named and an EPCIS import made; the same run writes the lot again as a Batch
// from every event that names it, so the graph is the one a single document of all of them gives.
// The mapping sends only lots an EPCIS import created and nothing but EPCIS facts refer to.
//#include audit.guard
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
