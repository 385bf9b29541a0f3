// Order-independent receipts (loaders/epcis_receipts.py): a receipt captured before its shipment made a
// shipment of its own (keyed by its event id or its despatch advice); the shipping event arriving later
// is the shipment that receipt closes. The provisional Shipment node goes, with its links, and
// (r.drop_customer) the Customer only it was delivered to and an EPCIS import made; the same run writes
// the receipt's facts onto the real shipment, so the graph is the one a single document of both gives.
// The mapping sends only shipments an EPCIS import created and nothing but EPCIS facts refer to.
//#include audit.guard
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (n:Shipment {id: r.id})
OPTIONAL MATCH (n)-[:DELIVERED_TO]->(c:Customer) WHERE r.drop_customer = true
WITH h, r, n, collect(c) AS cs
FOREACH (x IN cs | DETACH DELETE x)
FOREACH (x IN CASE WHEN n IS NULL THEN [] ELSE [n] END | DETACH DELETE x)
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
