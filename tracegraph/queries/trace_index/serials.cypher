// Trace index build (one page: $skip, $limit): every unit with the properties an impact answer shows (plain string
// columns: read in FalkorDB's verbose reply format, ~4x cheaper to transfer than compact).
MATCH (s:Serial)
RETURN s.id AS id, s.status AS st, s.customer_id AS cu, s.warehouse AS wh, s.product_id AS pr, s.batch_id AS bt
SKIP $skip LIMIT $limit
