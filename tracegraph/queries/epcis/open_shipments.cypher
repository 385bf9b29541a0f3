// Shipments not yet delivered that carry any of the units / lots $ids: a receiving event in a
// later document closes the shipment an earlier document opened. (Sorted by the caller.)
MATCH (x:Serial)-[:SHIPPED_IN]->(sh:Shipment)
WHERE x.id IN $ids AND sh.delivered_at IS NULL
RETURN sh.id AS id, sh.date AS date, sh.customer_id AS customer_id, 'Serial' AS label, x.id AS item
UNION ALL
MATCH (x:Batch)-[:SHIPPED_IN]->(sh:Shipment)
WHERE x.id IN $ids AND sh.delivered_at IS NULL
RETURN sh.id AS id, sh.date AS date, sh.customer_id AS customer_id, 'Batch' AS label, x.id AS item
UNION ALL
MATCH (x:Container)-[:SHIPPED_IN]->(sh:Shipment)
WHERE x.id IN $ids AND sh.delivered_at IS NULL
RETURN sh.id AS id, sh.date AS date, sh.customer_id AS customer_id, 'Container' AS label, x.id AS item
