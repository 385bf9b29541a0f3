// Packing intervals of the units in $blob (ids joined by $rs: cheaper to send than a list), as ONE
// row of strings "unit<us>container<us>from<us>to" (one string per link decodes ~5x cheaper than a
// row of four values; engine/trace/containers.py names the containers holding affected units).
UNWIND split($blob, $rs) AS sid
MATCH (:Serial {id: sid})-[p:PACKED_IN]->(k:Container)
RETURN collect(sid + $us + k.id + $us + coalesce(p.from, '') + $us + coalesce(p.to, '')) AS links
