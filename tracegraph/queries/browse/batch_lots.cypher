// Material lots consumed in each batch ($ids: batch ids).
UNWIND $ids AS k
MATCH (n:MaterialLot)-[r:CONSUMED_IN]->(:Batch {id: k})
RETURN k AS key, n, r.qty AS qty, r.uom AS uom
