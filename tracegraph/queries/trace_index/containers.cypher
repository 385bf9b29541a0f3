// Trace index build: every container with its SSCC and kind, and the containers it is packed in
// now (open links) as [container, from] pairs.
MATCH (k:Container)
OPTIONAL MATCH (k)-[p:PACKED_IN]->(o:Container)
WHERE p.to IS NULL OR p.to = ''
RETURN k.id AS id, k.sscc AS sscc, k.kind AS kind,
       collect(CASE WHEN o IS NULL THEN NULL ELSE [o.id, coalesce(p.from, '')] END) AS up
