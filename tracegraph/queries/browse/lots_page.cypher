// One page of MaterialLot nodes for a GraphQL connection: filtered, sorted by $sort (whitelisted
// by the engine) then id, $desc for descending, offset $skip, $limit rows.
//#include browse.lots_where
WITH n, CASE $sort WHEN 'received_at' THEN n.received_at WHEN 'status' THEN n.status WHEN 'supplier_id' THEN n.supplier_id ELSE n.id END AS sk
ORDER BY CASE WHEN $desc THEN null ELSE sk END ASC, CASE WHEN $desc THEN sk ELSE null END DESC, n.id
SKIP $skip LIMIT $limit
RETURN n
