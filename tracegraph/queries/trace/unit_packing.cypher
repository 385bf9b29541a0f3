// Packing intervals of the units in $blob (ids joined by $rs: cheaper to send than a list), one
// row per container and interval with the ids of the units in it, as trace.batch_unit_packing
// (engine/trace/containers.py names the containers holding affected units).
UNWIND split($blob, $rs) AS sid
MATCH (:Serial {id: sid})-[p:PACKED_IN]->(k:Container)
WITH k, p.from AS f, p.to AS t, collect(sid) AS ss
RETURN k.id AS k, f, t, ss
