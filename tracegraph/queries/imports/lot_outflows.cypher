// What already left these lots (consumed, split, merged), for the over-consumption check.
UNWIND $keys AS k
MATCH (l:MaterialLot {id: k})-[e]->(x)
WHERE type(e) IN ['CONSUMED_IN', 'SPLIT_INTO', 'MERGED_INTO']
RETURN l.id AS lot, type(e) AS type, x.id AS to, e.qty AS qty
