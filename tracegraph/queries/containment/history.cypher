// Shipments and returns of units and containers: [label, id, type, target id, date, delivered_at,
// customer_id, disposition, via] (via null: the item's own; else the container that carried it),
// the item's current status and (units) the container holding it now as last derived (`box`).
// The derivation re-classifies from this.
UNWIND $serials AS i
MATCH (s:Serial {id: i})
OPTIONAL MATCH (s)-[x:SHIPPED_IN|RETURNED_IN]->(m)
RETURN 'Serial' AS l, i AS id, s.status AS status, s.customer_id AS customer, s.container_id AS box,
       collect(CASE WHEN m IS NULL THEN NULL ELSE [type(x), m.id, m.date, m.delivered_at, m.customer_id, m.disposition, x.via] END) AS h
UNION ALL
UNWIND $containers AS i
MATCH (s:Container {id: i})
OPTIONAL MATCH (s)-[x:SHIPPED_IN|RETURNED_IN]->(m)
RETURN 'Container' AS l, i AS id, s.status AS status, s.customer_id AS customer, null AS box,
       collect(CASE WHEN m IS NULL THEN NULL ELSE [type(x), m.id, m.date, m.delivered_at, m.customer_id, m.disposition, x.via] END) AS h
