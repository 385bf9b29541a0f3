// Packing intervals of the units in $blob (ids joined by $rs: cheaper to send than a list): [unit, container, from, to] (engine/trace/containers.py
// names the containers that hold affected units at the answer's date).
UNWIND split($blob, $rs) AS sid
MATCH (:Serial {id: sid})-[p:PACKED_IN]->(k:Container)
RETURN sid AS id, k.id AS k, p.from AS f, p.to AS t
