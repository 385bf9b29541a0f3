// Batches whose PROCESSED_ON usage window overlaps [$from, $to] (open ends allowed).
MATCH (e:Equipment {id: $id})
OPTIONAL MATCH (b:Batch)-[p:PROCESSED_ON]->(e)
WHERE ($to IS NULL OR p.from <= $to) AND ($from IS NULL OR p.to IS NULL OR p.to >= $from)
RETURN e.id AS equipment, collect(CASE WHEN b IS NULL THEN null ELSE [b.id, p.from, p.to] END) AS batches
