// The containers $ids and every container above them (any packing, any time, up to 32 levels):
// their SSCC and kind, and every container each was packed in (intervals). One statement for the
// whole chain (it was one per nesting level).
UNWIND $ids AS cid
MATCH (:Container {id: cid})-[:PACKED_IN*0..32]->(k:Container)
WITH DISTINCT k
OPTIONAL MATCH (k)-[p:PACKED_IN]->(o:Container)
RETURN k.id AS id, k.sscc AS sscc, k.kind AS kind,
       collect(CASE WHEN o IS NULL THEN NULL ELSE [o.id, p.from, p.to] END) AS up
