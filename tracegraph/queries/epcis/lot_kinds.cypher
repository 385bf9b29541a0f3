// Order-independent EPCIS lot kinds (loaders/epcis_kinds.py): the lots of $ids stored as Batch or
// MaterialLot; the format of the import run that created each ('epcis' for an EPCIS import, null for
// an ERP import or a command); every relationship type it has (the caller allows only the ones the
// EPCIS mapping writes); the node its OF edge points to, that node's creating import format and how
// many relationships it has (1: only this lot names it).
MATCH (n:Batch) WHERE n.id IN $ids
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-()
WITH n, run, collect(DISTINCT type(r)) AS types
OPTIONAL MATCH (n)-[:OF]->(t:Product)
OPTIONAL MATCH (trun:ImportRun {id: t.import_id})
OPTIONAL MATCH (t)-[tr]-()
RETURN 'Batch' AS label, n.id AS id, run.format AS made_by, types, t.id AS of_id, trun.format AS of_made_by,
       count(tr) AS of_degree
UNION ALL
MATCH (n:MaterialLot) WHERE n.id IN $ids
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-()
WITH n, run, collect(DISTINCT type(r)) AS types
OPTIONAL MATCH (n)-[:OF]->(t:Material)
OPTIONAL MATCH (trun:ImportRun {id: t.import_id})
OPTIONAL MATCH (t)-[tr]-()
RETURN 'MaterialLot' AS label, n.id AS id, run.format AS made_by, types, t.id AS of_id,
       trun.format AS of_made_by, count(tr) AS of_degree
