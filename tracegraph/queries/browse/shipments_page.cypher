// One page of Shipment nodes for a GraphQL connection: filtered, sorted by $sort (whitelisted
// by the engine) then id, $desc for descending, offset $skip, $limit rows.
//#include browse.shipments_where
WITH n, CASE $sort WHEN 'date' THEN n.date WHEN 'status' THEN n.status WHEN 'customer_id' THEN n.customer_id ELSE n.id END AS sk
ORDER BY CASE WHEN $desc THEN null ELSE sk END ASC, CASE WHEN $desc THEN sk ELSE null END DESC, n.id
SKIP $skip LIMIT $limit
RETURN n
