// Order-independent capture (loaders/epcis_pending.py): of the units, containers and shipments an EPCIS
// import named, the ones whose missing piece has not arrived yet: a unit with no production (no batch
// PRODUCED it: its commissioning or transformation is not known), a container shipped, received or
// returned with nothing known to be inside it (its packing is not known), a shipment of units or
// containers that only receiving events speak of (its shipping event is not known). Id indexes.
MATCH (s:Serial) WHERE s.id IN $serials
OPTIONAL MATCH (b:Batch)-[:PRODUCED]->(s)
WITH s, count(b) AS made WHERE made = 0
RETURN 'Serial' AS label, s.id AS id, 'production' AS missing
UNION ALL
MATCH (c:Container) WHERE c.id IN $containers
OPTIONAL MATCH (x)-[:PACKED_IN]->(c)
WITH c, count(x) AS inside WHERE inside = 0
OPTIONAL MATCH (c)-[m:SHIPPED_IN|RETURNED_IN]->()
WITH c, count(m) AS moved WHERE moved > 0
RETURN 'Container' AS label, c.id AS id, 'packing' AS missing
UNION ALL
MATCH (sh:Shipment) WHERE sh.id IN $shipments
OPTIONAL MATCH (e:EpcisEvent)-[:CONCERNS {role: 'shipment'}]->(sh)
WITH sh, collect(DISTINCT e.biz_step) AS steps
WHERE NOT 'shipping' IN steps AND 'receiving' IN steps
OPTIONAL MATCH (x)-[:SHIPPED_IN]->(sh) WHERE x:Serial OR x:Container
WITH sh, count(x) AS units WHERE units > 0
RETURN 'Shipment' AS label, sh.id AS id, 'shipping' AS missing
