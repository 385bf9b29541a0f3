// Batches each material lot was consumed in ($ids: lot codes).
UNWIND $ids AS k
MATCH (:MaterialLot {id: k})-[r:CONSUMED_IN]->(n:Batch)
RETURN k AS key, n, r.qty AS qty, r.uom AS uom
