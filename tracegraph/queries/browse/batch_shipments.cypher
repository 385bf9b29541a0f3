// Shipments each batch went out in ($ids: batch ids).
UNWIND $ids AS k
MATCH (:Batch {id: k})-[r:SHIPPED_IN]->(n:Shipment)
RETURN k AS key, n, r.qty AS qty
