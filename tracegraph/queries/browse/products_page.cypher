// One page of Product nodes for a GraphQL connection: filtered, sorted by $sort (whitelisted
// by the engine) then id, $desc for descending, offset $skip, $limit rows.
//#include browse.products_where
WITH n, CASE $sort WHEN 'name' THEN n.name WHEN 'gtin' THEN n.gtin WHEN 'part_no' THEN n.part_no ELSE n.id END AS sk
ORDER BY CASE WHEN $desc THEN null ELSE sk END ASC, CASE WHEN $desc THEN sk ELSE null END DESC, n.id
SKIP $skip LIMIT $limit
RETURN n
