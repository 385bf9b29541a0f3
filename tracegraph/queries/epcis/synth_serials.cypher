// Units not described by any stored EPCIS event ($all, or key in $ids): what a commissioning
// event needs (GS1 identity, batch, expiry, when).
MATCH (s:Serial)
WHERE ($all OR s.id IN $ids)
OPTIONAL MATCH (ev:EpcisEvent)-[:CONCERNS]->(s)
WITH s, count(ev) AS described WHERE described = 0
OPTIONAL MATCH (s)-[:OF]->(p:Product)
OPTIONAL MATCH (b:Batch)-[:PRODUCED]->(s)
RETURN s AS serial, p.gtin AS gtin, b.id AS batch_id, b.lot_no AS batch_lot,
       coalesce(b.finished_at, b.started_at, s.created_at) AS at, b.site AS site
ORDER BY at, s.id
