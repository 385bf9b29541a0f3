// What `tracegraph scan` shows about a batch or material lot: product/material and unit counts
// by status (batch) or where it went (lot).
MATCH (n {id: $id}) WHERE $label IN labels(n)
OPTIONAL MATCH (n)-[:OF]->(p)
OPTIONAL MATCH (n)-[:PRODUCED]->(s:Serial)
WITH n, p, s.status AS st, count(s) AS c
WITH n, p, collect(CASE WHEN st IS NULL THEN NULL ELSE {status: st, count: c} END) AS by_status
OPTIONAL MATCH (n)-[:SHIPPED_IN]->(sh:Shipment)
WITH n, p, by_status, sh ORDER BY sh.date DESC
RETURN n AS node, p AS product, by_status, collect(sh)[0] AS shipment
