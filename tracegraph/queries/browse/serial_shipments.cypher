// Shipments each serial went out in ($ids: serial keys).
UNWIND $ids AS k
MATCH (:Serial {id: k})-[r:SHIPPED_IN]->(n:Shipment)
RETURN k AS key, n, r.qty AS qty
