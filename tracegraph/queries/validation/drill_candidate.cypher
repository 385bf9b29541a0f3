// A material lot that reached finished units: the default cause of the PQ mock recall drill
// (the lot consumed into the most recent batch that produced serials).
MATCH (l:MaterialLot)-[:CONSUMED_IN]->(b:Batch)-[:PRODUCED]->(:Serial)
WITH l, b
ORDER BY b.started_at DESC, l.id
RETURN l.id AS lot
LIMIT 1
