// Packing of the units the batches $bids PRODUCED with the two levels of containers above them,
// one row per container and interval (k, f, t) and parent pair: the ids of the units in that
// interval (`j`: joined by $rs, for up to 64 units; `ss`: a list, for more), the container's SSCC
// and kind, every container it was packed in (`up`, any time; null when none) with ITS SSCC, kind
// and every container it was packed in (`up2`), as trace.container_level (whose statement reads
// the levels above `up2`, if any). engine/trace/containers.py reads it for "as of" answers (a "now"
// answer reads each unit's derived `container_id` with the unit instead), once the plant is known
// to hold containers (trace.any_container).
// Why one statement: the chain read by container ids was a round trip and ~600 indexed lookups
// (~10 ms for a supplier-wide answer at 100k serials) where the nodes are already bound here
// (~4 ms more). Why joined ids: a list of ten ids per row cost more to decode than the query took.
// Why through the batch: its units are one hop away, where looking each unit up by id costs ~3 us
// a unit. No labels on `s` and `k`: PRODUCED leads to units and a unit is PACKED_IN containers only
// (engine/model.py), and the label checks cost a third of the time.
UNWIND $bids AS bid
MATCH (:Batch {id: bid})-[:PRODUCED]->(s)-[p:PACKED_IN]->(k)
WITH k, p.from AS f, p.to AS t, collect(s.id) AS ss
OPTIONAL MATCH (k)-[q:PACKED_IN]->(o:Container)
OPTIONAL MATCH (o)-[q2:PACKED_IN]->(o2:Container)
RETURN k.id AS k, f, t,
       CASE WHEN size(ss) <= 64 THEN reduce(a = '', x IN ss | a + $rs + x) END AS j,
       CASE WHEN size(ss) > 64 THEN ss END AS ss,
       k.sscc AS sscc, k.kind AS kind, o.id AS up, q.from AS f1, q.to AS t1,
       o.sscc AS usscc, o.kind AS ukind, o2.id AS up2, q2.from AS f2, q2.to AS t2
