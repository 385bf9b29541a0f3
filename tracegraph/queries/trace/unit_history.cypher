// Shipments and returns of the given serials ([serial, type, target id, qty, date, delivered_at,
// customer_id, from_id, disposition, via]), for "as of" answers and the spreadsheet's references;
// `via` (the container that carried the unit, null when the unit itself was named) is what the
// containers step needs of the same edges (engine/trace/containers.py), so it reads no more.
UNWIND $sids AS sid
MATCH (:Serial {id: sid})-[r:SHIPPED_IN|RETURNED_IN]->(m)
RETURN collect([sid, type(r), m.id, r.qty, m.date, m.delivered_at, m.customer_id, m.from_id, m.disposition, r.via]) AS h
