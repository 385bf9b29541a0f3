// The material lot whose supplier "reports a problem" in the demo: the lot reaching the most batches.
MATCH (s:Supplier)-[:SUPPLIED]->(l:MaterialLot)-[:CONSUMED_IN]->(b:Batch)
WITH s, l, count(DISTINCT b) AS batches
ORDER BY batches DESC, l.id
RETURN l.id AS lot, s.id AS supplier, s.name AS supplier_name, batches
LIMIT 1
