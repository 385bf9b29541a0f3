// Trace index refresh: the units a write changed ($ids), same columns as trace_index.serials.
UNWIND $ids AS k
MATCH (s:Serial {id: k})
RETURN s.id AS id, s.status AS st, s.customer_id AS cu, s.warehouse AS wh, s.product_id AS pr, s.batch_id AS bt
