// Released batches (directly or through sub-assemblies) made from a lot whose incoming
// inspection is now rejected or reopened, or that is itself rejected, with the release time.
MATCH (l:MaterialLot)-[:CONSUMED_IN*1..6]->(b:Batch)
WHERE b.status = 'released'
OPTIONAL MATCH (i:Inspection)-[:INSPECTED]->(l)
WITH b, l, i
WHERE i.result = 'reject' OR i.status = 'reopened' OR l.status = 'rejected'
OPTIONAL MATCH (r:Release)-[:ABOUT]->(b)
RETURN DISTINCT b.id AS batch, coalesce(r.released_at, b.released_at) AS released_at, l.id AS lot,
       l.status AS lot_status, i.id AS inspection, i.result AS result, i.status AS inspection_status,
       i.date AS inspection_date, coalesce(i.updated_at, i.date) AS changed_at
ORDER BY batch, lot, inspection
