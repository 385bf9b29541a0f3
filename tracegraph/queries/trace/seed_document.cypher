// Batches made under a document version: batches linked to it directly, and batches of products
// linked to it whose start falls in the version's effective window.
MATCH (d:Document {id: $id})
OPTIONAL MATCH (b:Batch)-[:DOCUMENTED_BY]->(d)
WITH d, collect(DISTINCT b.id) AS direct
OPTIONAL MATCH (p:Product)-[:DOCUMENTED_BY]->(d)
OPTIONAL MATCH (pb:Batch)-[:OF]->(p)
WHERE d.effective_from IS NULL OR (pb.started_at >= d.effective_from
      AND (d.effective_to IS NULL OR pb.started_at < d.effective_to))
RETURN d.id AS document, direct, collect(DISTINCT pb.id) AS via_product
