// Containers not described by any stored EPCIS event, with what is packed in them now.
MATCH (k:Container)
WHERE ($all OR k.id IN $ids)
OPTIONAL MATCH (ev:EpcisEvent)-[:CONCERNS]->(k)
WITH k, count(ev) AS described WHERE described = 0
OPTIONAL MATCH (x)-[pk:PACKED_IN]->(k) WHERE pk.to IS NULL
OPTIONAL MATCH (x)-[:OF]->(xp)
RETURN k AS container,
       collect(CASE WHEN x IS NULL THEN NULL ELSE {id: x.id, label: labels(x)[0], gtin: coalesce(x.gtin, xp.gtin), serial_no: x.serial_no} END) AS children
ORDER BY k.id
