// Material lot stock at a moment: received, minus consumed, minus split/merged away, by then.
MATCH (l:MaterialLot)
WHERE ($lot IS NULL OR l.id = $lot) AND coalesce(l.received_at, '') <= $at
OPTIONAL MATCH (l)-[c:CONSUMED_IN]->()
WHERE coalesce(c.at, '') <= $at
WITH l, sum(coalesce(c.qty, 0)) AS consumed
OPTIONAL MATCH (l)-[m:SPLIT_INTO|MERGED_INTO]->()
WHERE coalesce(m.date, '') <= $at
WITH l, consumed, sum(coalesce(m.qty, 0)) AS moved
RETURN l.id AS lot, l.material_id AS material, coalesce(l.warehouse, '-') AS warehouse, coalesce(l.uom, '') AS uom,
       coalesce(l.qty_received, 0) AS received, consumed, moved,
       coalesce(l.qty_received, 0) - consumed - moved AS on_hand
ORDER BY lot
