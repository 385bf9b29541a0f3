// A page of the lots each supplier delivered, for many suppliers in one round trip
// ($keys: list of {id, status, skip, limit}); suppliers with no lots return no row.
UNWIND $keys AS k
MATCH (:Supplier {id: k.id})-[:SUPPLIED]->(n:MaterialLot)
WHERE k.status IS NULL OR n.status = k.status
WITH k, n ORDER BY n.id
WITH k, collect(n) AS ns
RETURN k.id AS key, k.status AS status, k.skip AS skip, k.limit AS limit, size(ns) AS total,
       ns[k.skip..(k.skip + k.limit)] AS page
