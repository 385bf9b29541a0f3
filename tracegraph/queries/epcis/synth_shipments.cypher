// Shipments not described by any stored EPCIS event: what was shipped, from where, to whom.
MATCH (sh:Shipment)
WHERE ($all OR sh.id IN $ids)
OPTIONAL MATCH (ev:EpcisEvent)-[:CONCERNS]->(sh)
WITH sh, count(ev) AS described WHERE described = 0
OPTIONAL MATCH (x)-[r:SHIPPED_IN]->(sh)
OPTIONAL MATCH (x)-[:OF]->(xp)
WITH sh, collect(CASE WHEN x IS NULL THEN NULL ELSE
     {id: x.id, label: labels(x)[0], gtin: coalesce(x.gtin, xp.gtin), serial_no: x.serial_no, lot_no: x.lot_no, qty: r.qty}
     END) AS items
OPTIONAL MATCH (sh)-[:DELIVERED_TO]->(c:Customer)
RETURN sh AS shipment, items, c.id AS customer_id
ORDER BY sh.date, sh.id
