// Shipments and returns of the given serials, packed per edge ($sep-separated: serial, type,
// target id, qty, date, delivered_at, customer_id, from_id, disposition), for "as of" answers
// and the spreadsheet's reference documents.
UNWIND $sids AS sid
MATCH (:Serial {id: sid})-[r:SHIPPED_IN|RETURNED_IN]->(m)
RETURN collect(sid + $sep + type(r) + $sep + m.id + $sep + coalesce(toString(r.qty), '') + $sep
               + coalesce(m.date, '') + $sep + coalesce(m.delivered_at, '') + $sep + coalesce(m.customer_id, '')
               + $sep + coalesce(m.from_id, '') + $sep + coalesce(m.disposition, '')) AS h
