// A page of the serials each batch produced, for many batches in one round trip
// ($keys: list of {id, status, skip, limit}); batches with no serials return no row.
UNWIND $keys AS k
MATCH (:Batch {id: k.id})-[:PRODUCED]->(n:Serial)
WHERE k.status IS NULL OR n.status = k.status
WITH k, n ORDER BY n.id
WITH k, collect(n) AS ns
RETURN k.id AS key, k.status AS status, k.skip AS skip, k.limit AS limit, size(ns) AS total,
       ns[k.skip..(k.skip + k.limit)] AS page
