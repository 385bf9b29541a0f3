// Shipments and returns of the units $sids with the container that carried them (via, null when
// the unit itself was named): [unit, type, target id, date, delivered_at, customer_id, via].
UNWIND $sids AS sid
MATCH (:Serial {id: sid})-[r:SHIPPED_IN|RETURNED_IN]->(m)
RETURN collect([sid, type(r), m.id, m.date, m.delivered_at, m.customer_id, r.via]) AS h
