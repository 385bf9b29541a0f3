// Trace index build (one page: $skip, $limit): every CONSUMED_IN edge from a MaterialLot to a Batch (ids only, one label pair per statement:
// labels() and string building cost FalkorDB 5-10x more server time than two plain columns).
MATCH (a:MaterialLot)-[:CONSUMED_IN]->(b:Batch)
RETURN a.id AS a, b.id AS b
SKIP $skip LIMIT $limit
