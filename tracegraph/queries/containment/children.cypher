// Everything ever packed into the containers $ids (every interval): [child label, child id,
// container id, from, to, qty]. Read by engine/imports/containment.py to walk down a packing tree.
UNWIND $ids AS cid
MATCH (x)-[p:PACKED_IN]->(k:Container {id: cid})
RETURN labels(x)[0] AS l, x.id AS id, cid AS k, p.from AS f, p.to AS t, p.qty AS q
