// Batches not described by any stored EPCIS event: inputs consumed and units produced, for a
// TransformationEvent.
MATCH (b:Batch)
WHERE ($all OR b.id IN $ids)
OPTIONAL MATCH (ev:EpcisEvent)-[:CONCERNS]->(b)
WITH b, count(ev) AS described WHERE described = 0
OPTIONAL MATCH (b)-[:OF]->(p:Product)
OPTIONAL MATCH (i)-[c:CONSUMED_IN]->(b)
OPTIONAL MATCH (i)-[:OF]->(ip)
WITH b, p, collect(CASE WHEN i IS NULL THEN NULL ELSE
     {id: i.id, label: labels(i)[0], gtin: coalesce(i.gtin, ip.gtin), lot_no: i.lot_no, qty: c.qty, uom: c.uom}
     END) AS inputs
OPTIONAL MATCH (b)-[:PRODUCED]->(s:Serial)
OPTIONAL MATCH (s)-[:OF]->(sp:Product)
RETURN b AS batch, p.gtin AS gtin, inputs,
       collect(CASE WHEN s IS NULL THEN NULL ELSE {id: s.id, gtin: coalesce(s.gtin, sp.gtin), serial_no: s.serial_no} END) AS serials
ORDER BY coalesce(b.finished_at, b.started_at, b.created_at), b.id
