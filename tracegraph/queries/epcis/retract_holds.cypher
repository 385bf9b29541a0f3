// GS1 error declarations (loaders/epcis_retract.py): what, besides EPCIS, holds the records an
// erroneous event's effects are undone on. Per node of $serials / $containers / $batches / $lots /
// $shipments / $customers / $products / $materials: its status, the format of the import run that made it ('epcis' for an EPCIS
// import), every relationship type it has to anything but an audit entry, the non-EPCIS returns it is in
// (a RETURNED_IN link of its own to a Return no EPCIS import made: a recall return), its degree, and
// whether an ERP import wrote it (`erp`: it carries an ERP import hash, also when EPCIS created it).
MATCH (n:Serial) WHERE n.id IN $serials
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-(x) WHERE NOT x:AuditEntry
WITH n, run, collect(DISTINCT type(r)) AS types, count(r) AS degree
OPTIONAL MATCH (n)-[rr:RETURNED_IN]->(ret:Return) WHERE rr.via IS NULL
OPTIONAL MATCH (rrun:ImportRun) WHERE ret IS NOT NULL AND rrun.id = ret.import_id
WITH n, run, types, degree, CASE WHEN ret IS NOT NULL AND (rrun IS NULL OR rrun.format <> 'epcis') THEN ret.id END AS foreign
RETURN 'Serial' AS label, n.id AS id, n.status AS status, run.format AS made_by, n.import_hash IS NOT NULL AS erp, types, degree,
       collect(DISTINCT foreign) AS returns
UNION ALL
MATCH (n:Container) WHERE n.id IN $containers
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-(x) WHERE NOT x:AuditEntry
WITH n, run, collect(DISTINCT type(r)) AS types, count(r) AS degree
OPTIONAL MATCH (n)-[rr:RETURNED_IN]->(ret:Return) WHERE rr.via IS NULL
OPTIONAL MATCH (rrun:ImportRun) WHERE ret IS NOT NULL AND rrun.id = ret.import_id
WITH n, run, types, degree, CASE WHEN ret IS NOT NULL AND (rrun IS NULL OR rrun.format <> 'epcis') THEN ret.id END AS foreign
RETURN 'Container' AS label, n.id AS id, n.status AS status, run.format AS made_by, n.import_hash IS NOT NULL AS erp, types, degree,
       collect(DISTINCT foreign) AS returns
UNION ALL
MATCH (n:Batch) WHERE n.id IN $batches
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-(x) WHERE NOT x:AuditEntry
WITH n, run, collect(DISTINCT type(r)) AS types, count(r) AS degree
RETURN 'Batch' AS label, n.id AS id, n.status AS status, run.format AS made_by, n.import_hash IS NOT NULL AS erp, types, degree, [] AS returns
UNION ALL
MATCH (n:MaterialLot) WHERE n.id IN $lots
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-(x) WHERE NOT x:AuditEntry
WITH n, run, collect(DISTINCT type(r)) AS types, count(r) AS degree
RETURN 'MaterialLot' AS label, n.id AS id, n.status AS status, run.format AS made_by, n.import_hash IS NOT NULL AS erp, types, degree, [] AS returns
UNION ALL
MATCH (n:Shipment) WHERE n.id IN $shipments
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-(x) WHERE NOT x:AuditEntry
WITH n, run, collect(DISTINCT type(r)) AS types, count(r) AS degree
RETURN 'Shipment' AS label, n.id AS id, n.status AS status, run.format AS made_by, n.import_hash IS NOT NULL AS erp, types, degree, [] AS returns
UNION ALL
MATCH (n:Customer) WHERE n.id IN $customers
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-(x) WHERE NOT x:AuditEntry
WITH n, run, collect(DISTINCT type(r)) AS types, count(r) AS degree
RETURN 'Customer' AS label, n.id AS id, n.status AS status, run.format AS made_by, n.import_hash IS NOT NULL AS erp, types, degree, [] AS returns
UNION ALL
MATCH (n:Product) WHERE n.id IN $products
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-(x) WHERE NOT x:AuditEntry
WITH n, run, collect(DISTINCT type(r)) AS types, count(r) AS degree
RETURN 'Product' AS label, n.id AS id, n.status AS status, run.format AS made_by, n.import_hash IS NOT NULL AS erp, types, degree, [] AS returns
UNION ALL
MATCH (n:Material) WHERE n.id IN $materials
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-(x) WHERE NOT x:AuditEntry
WITH n, run, collect(DISTINCT type(r)) AS types, count(r) AS degree
RETURN 'Material' AS label, n.id AS id, n.status AS status, run.format AS made_by, n.import_hash IS NOT NULL AS erp, types, degree, [] AS returns
