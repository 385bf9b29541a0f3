// Trace index build (one page: $skip, $limit): every SPLIT_INTO edge from a MaterialLot to a MaterialLot (ids only, one label pair per statement:
// labels() and string building cost FalkorDB 5-10x more server time than two plain columns).
MATCH (a:MaterialLot)-[:SPLIT_INTO]->(b:MaterialLot)
RETURN a.id AS a, b.id AS b
SKIP $skip LIMIT $limit
