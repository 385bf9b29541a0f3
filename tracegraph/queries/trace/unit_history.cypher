// Shipments and returns of the given serials ([serial, type, target id, qty, date, delivered_at,
// customer_id, from_id, disposition]), for "as of" answers and the spreadsheet's references.
UNWIND $sids AS sid
MATCH (:Serial {id: sid})-[r:SHIPPED_IN|RETURNED_IN]->(m)
RETURN collect([sid, type(r), m.id, r.qty, m.date, m.delivered_at, m.customer_id, m.from_id, m.disposition]) AS h
