// What `recall.quarantine` will quarantine (the same selection), so its statement can carry the
// records' new seals (engine/audit/seals.py): covered units in stock, covered released or
// in-process batches, and the suspect lots ($lots) still available.
MATCH (r:Recall {id: $id})
OPTIONAL MATCH (r)-[:COVERS]->(s:Serial)
WHERE s.status = 'in_stock'
WITH r, [x IN collect(s.id) WHERE x IS NOT NULL] AS serials
OPTIONAL MATCH (r)-[:COVERS]->(b:Batch)
WHERE b.status IN ['released', 'in_process']
WITH serials, [x IN collect(b.id) WHERE x IS NOT NULL] AS batches
OPTIONAL MATCH (l:MaterialLot)
WHERE l.id IN $lots AND l.status = 'available'
RETURN serials, batches, [x IN collect(l.id) WHERE x IS NOT NULL] AS lots
