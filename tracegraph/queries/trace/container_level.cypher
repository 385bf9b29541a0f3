// The containers in $blob (ids joined by $rs) with their SSCC and kind, every container each was
// packed in (`up`, any time; null when none) with ITS SSCC, kind and every container it was packed
// in (`up2`). engine/trace/containers.py reads the chain above an answer's containers with it, two
// levels a statement (cases and their pallets in one round trip; the containers in `up2`, if any,
// are the next statement's). One indexed lookup per container: cheaper than one variable-length
// statement (`*0..32`, DISTINCT, collect took ~16 ms where a level took ~4 ms for 600 cases).
UNWIND split($blob, $rs) AS cid
MATCH (k:Container {id: cid})
OPTIONAL MATCH (k)-[p:PACKED_IN]->(o:Container)
OPTIONAL MATCH (o)-[q:PACKED_IN]->(o2:Container)
RETURN k.id AS k, k.sscc AS sscc, k.kind AS kind, o.id AS up, p.from AS f1, p.to AS t1,
       o.sscc AS usscc, o.kind AS ukind, o2.id AS up2, q.from AS f2, q.to AS t2
