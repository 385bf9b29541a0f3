// Trace index build (one page: $skip, $limit): every COMPONENT_OF edge from a Serial to a Serial (ids only, one label pair per statement:
// labels() and string building cost FalkorDB 5-10x more server time than two plain columns).
MATCH (a:Serial)-[:COMPONENT_OF]->(b:Serial)
RETURN a.id AS a, b.id AS b
SKIP $skip LIMIT $limit
