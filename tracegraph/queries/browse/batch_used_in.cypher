// Batches each batch was consumed in ($ids: batch ids).
UNWIND $ids AS k
MATCH (:Batch {id: k})-[r:CONSUMED_IN]->(n:Batch)
RETURN k AS key, n, r.qty AS qty, r.uom AS uom
