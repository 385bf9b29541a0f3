// Other serials of the given batches (units sharing the suspect inputs), at most $limit ids each.
// (No label on `s` and the filter after the hop: the planner must expand from the batch.)
UNWIND $ids AS bid
MATCH (b:Batch {id: bid})
MATCH (b)-[:PRODUCED]->(s)
WITH bid, s.id AS sid
WHERE NOT sid IN $exclude
WITH bid, sid ORDER BY sid
RETURN bid AS batch, count(sid) AS n, collect(sid)[0..$limit] AS ids
