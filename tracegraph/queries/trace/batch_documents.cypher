// Documents linked to each batch, directly or through its product.
UNWIND $ids AS bid
MATCH (b:Batch {id: bid})
OPTIONAL MATCH (b)-[:DOCUMENTED_BY]->(d:Document)
WITH b, collect([d.id, d.doc_id]) AS direct
OPTIONAL MATCH (b)-[:OF]->(:Product)-[:DOCUMENTED_BY]->(pd:Document)
RETURN b.id AS batch, b.started_at AS started_at, direct, collect([pd.id, pd.doc_id]) AS via_product
