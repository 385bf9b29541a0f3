// The containers $ids: their SSCC and kind, and every container each was packed in (intervals).
UNWIND $ids AS cid
MATCH (k:Container {id: cid})
OPTIONAL MATCH (k)-[p:PACKED_IN]->(o:Container)
RETURN cid AS id, k.sscc AS sscc, k.kind AS kind,
       collect(CASE WHEN o IS NULL THEN NULL ELSE [o.id, p.from, p.to] END) AS up
