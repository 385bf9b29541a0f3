// Trace index build (one page: $skip, $limit): every unit's open packing link (`to` unset: packed
// now), as strings. The index answers "now" only, so closed intervals are never needed there.
MATCH (s:Serial)-[p:PACKED_IN]->(k:Container)
WHERE p.to IS NULL OR p.to = ''
RETURN s.id AS id, k.id AS box, coalesce(p.from, '') AS from
SKIP $skip LIMIT $limit
