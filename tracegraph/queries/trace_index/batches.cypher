// Trace index build: every batch with the properties an impact answer shows.
MATCH (b:Batch)
RETURN b.id AS id, b.product_id AS pr, b.kind AS k, b.qty AS q, b.uom AS u, b.started_at AS sa, b.status AS st
