// What `tracegraph scan` shows about a batch or material lot ($label): product/material, its
// units by status (batch), and its latest shipment.
OPTIONAL MATCH (b:Batch {id: $id})
OPTIONAL MATCH (l:MaterialLot {id: $id})
WITH CASE $label WHEN 'Batch' THEN b ELSE l END AS n
WHERE n IS NOT NULL
OPTIONAL MATCH (n)-[:OF]->(p)
OPTIONAL MATCH (n)-[:PRODUCED]->(s:Serial)
WITH n, p, s.status AS st, count(s) AS c
WITH n, p, collect(CASE WHEN st IS NULL THEN NULL ELSE {status: st, count: c} END) AS by_status
OPTIONAL MATCH (n)-[:SHIPPED_IN]->(sh:Shipment)
WITH n, p, by_status, sh ORDER BY sh.date DESC
RETURN n AS node, p AS product, by_status, collect(sh)[0] AS shipment
