// The material lot consumed in the most batches (a good drill subject for the demo).
MATCH (l:MaterialLot)-[:CONSUMED_IN]->(b:Batch)
WITH l, count(DISTINCT b) AS nb
ORDER BY nb DESC, l.id
LIMIT 1
RETURN l.id AS id, nb
