// Packing of the units in $blob (ids joined by $rs: cheaper to send than a list) with the two
// levels of containers above them, in the rows of trace.batch_unit_packing (for the units an
// answer reached without their batch: assemblies, serial seeds).
UNWIND split($blob, $rs) AS sid
MATCH (:Serial {id: sid})-[p:PACKED_IN]->(k:Container)
WITH k, p.from AS f, p.to AS t, collect(sid) AS ss
OPTIONAL MATCH (k)-[q:PACKED_IN]->(o:Container)
OPTIONAL MATCH (o)-[q2:PACKED_IN]->(o2:Container)
RETURN k.id AS k, f, t,
       CASE WHEN size(ss) <= 64 THEN reduce(a = '', x IN ss | a + $rs + x) END AS j,
       CASE WHEN size(ss) > 64 THEN ss END AS ss,
       k.sscc AS sscc, k.kind AS kind, o.id AS up, q.from AS f1, q.to AS t1,
       o.sscc AS usscc, o.kind AS ukind, o2.id AS up2, q2.from AS f2, q2.to AS t2
