// Other serials of the given batches (units sharing the suspect inputs), at most $limit ids each.
UNWIND $ids AS bid
MATCH (b:Batch {id: bid})-[:PRODUCED]->(s:Serial)
WHERE NOT s.id IN $exclude
WITH bid, s ORDER BY s.id
RETURN bid AS batch, count(s) AS n, collect(s.id)[0..$limit] AS ids
