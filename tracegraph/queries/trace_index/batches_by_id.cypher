// Trace index refresh: the batches a write changed ($ids), same columns as trace_index.batches.
UNWIND $ids AS k
MATCH (b:Batch {id: k})
RETURN b.id AS id, b.product_id AS pr, b.kind AS k, b.qty AS q, b.uom AS u, b.started_at AS sa, b.status AS st
