// The containers in $blob (ids joined by $rs) with their SSCC and kind and every container each was
// packed in (one row per link, any time; o null when none). engine/trace/containers.py reads the
// chain above an answer's containers level by level with it: one indexed lookup per container
// (~4 ms for 600 cases, then ~1 ms for their pallets) where one variable-length statement
// (`*0..32`, DISTINCT, collect) took ~16 ms.
UNWIND split($blob, $rs) AS cid
MATCH (k:Container {id: cid})
OPTIONAL MATCH (k)-[p:PACKED_IN]->(o:Container)
RETURN k.id AS id, k.sscc AS sscc, k.kind AS kind, o.id AS up, p.from AS f, p.to AS t
