// One page of quality records of several types: filtered (records_where), sorted by $sort (one
// of the engine's whitelisted keys, mapped here by a fixed CASE) then id, $desc for descending,
// offset $skip, $limit rows. Returns the derived columns the typed API shows.
//#include qms.search.records_where
WITH n, label, title, owner, due,
     CASE $sort WHEN 'label' THEN label WHEN 'title' THEN toLower(title) WHEN 'status' THEN n.status
                WHEN 'owner' THEN owner WHEN 'created_at' THEN n.created_at WHEN 'updated_at' THEN n.updated_at
                WHEN 'due' THEN due ELSE n.id END AS sk
ORDER BY CASE WHEN $desc THEN null ELSE sk END ASC, CASE WHEN $desc THEN sk ELSE null END DESC,
         CASE WHEN $desc THEN null ELSE n.id END ASC, CASE WHEN $desc THEN n.id ELSE null END DESC
SKIP $skip LIMIT $limit
RETURN label, properties(n) AS props, title, owner, due
