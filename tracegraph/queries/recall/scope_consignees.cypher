// The consignees of a recall's affected units: every customer a unit was shipped to (our own
// shipments and onward shipments between customers alike), with how many of the units it
// received and how many of those another consignee holds now (it passed them on).
// $blob: "unit<us>holder" items joined by $rs (holder empty when the unit is out of the field).
UNWIND split($blob, $rs) AS item
WITH split(item, $us) AS f
MATCH (:Serial {id: f[0]})-[:SHIPPED_IN]->(m:Shipment)
WHERE m.customer_id IS NOT NULL AND m.customer_id <> ''
WITH DISTINCT f[0] AS sid, coalesce(f[1], '') AS holder, m.customer_id AS cid
RETURN cid AS id, count(sid) AS received,
       sum(CASE WHEN holder <> '' AND holder <> cid THEN 1 ELSE 0 END) AS passed_on
ORDER BY id
