// Order-independent receipts (loaders/epcis_receipts.py): for the shipments $ids a later shipping event
// absorbs, the format of the import run that created each ('epcis' for an EPCIS import), every
// relationship type it has (the caller allows only the ones the EPCIS mapping writes), the Customer it
// was delivered to, that customer's creating import format and how many relationships it has.
MATCH (n:Shipment) WHERE n.id IN $ids
OPTIONAL MATCH (run:ImportRun {id: n.import_id})
OPTIONAL MATCH (n)-[r]-()
WITH n, run, collect(DISTINCT type(r)) AS types
OPTIONAL MATCH (n)-[:DELIVERED_TO]->(c:Customer)
OPTIONAL MATCH (crun:ImportRun {id: c.import_id})
OPTIONAL MATCH (c)-[cr]-()
RETURN n.id AS id, run.format AS made_by, types, c.id AS customer_id, crun.format AS customer_made_by,
       count(cr) AS customer_degree
