// Batches whose PROCESSED_ON usage window overlaps [$from, $to] (open ends allowed).
// No label on the far end: PROCESSED_ON only comes from batches (docs/model.md), and a label
// there can make the planner start from a Batch label scan instead of the equipment's index.
MATCH (e:Equipment {id: $id})
OPTIONAL MATCH (e)<-[p:PROCESSED_ON]-(b)
WHERE ($to IS NULL OR p.from <= $to) AND ($from IS NULL OR p.to IS NULL OR p.to >= $from)
RETURN e.id AS equipment, collect(b.id) AS batches
