// One page of Batch nodes for a GraphQL connection: filtered, sorted by $sort (whitelisted
// by the engine) then id, $desc for descending, offset $skip, $limit rows.
//#include browse.batches_where
WITH n, CASE $sort WHEN 'started_at' THEN n.started_at WHEN 'finished_at' THEN n.finished_at WHEN 'status' THEN n.status WHEN 'product_id' THEN n.product_id ELSE n.id END AS sk
ORDER BY CASE WHEN $desc THEN null ELSE sk END ASC, CASE WHEN $desc THEN sk ELSE null END DESC, n.id
SKIP $skip LIMIT $limit
RETURN n
