// Sub-assembly / reworked batches consumed in each batch ($ids: batch ids).
UNWIND $ids AS k
MATCH (n:Batch)-[r:CONSUMED_IN]->(:Batch {id: k})
RETURN k AS key, n, r.qty AS qty, r.uom AS uom
