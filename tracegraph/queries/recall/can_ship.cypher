// Units or batches that must not ship: quarantined, or covered by an active (not drill,
// not closed/cancelled) recall.
UNWIND $serials AS sid
MATCH (s:Serial {id: sid})
OPTIONAL MATCH (r:Recall)-[:COVERS]->(s)
WHERE NOT coalesce(r.drill, false) AND NOT r.status IN ['closed', 'cancelled']
WITH s, collect(r.id) AS recalls
WHERE s.status = 'quarantined' OR size(recalls) > 0
RETURN 'Serial' AS label, s.id AS id, s.status AS status, recalls
UNION ALL
UNWIND $batches AS bid
MATCH (b:Batch {id: bid})
OPTIONAL MATCH (r:Recall)-[:COVERS]->(b)
WHERE NOT coalesce(r.drill, false) AND NOT r.status IN ['closed', 'cancelled']
WITH b, collect(r.id) AS recalls
WHERE b.status = 'quarantined' OR size(recalls) > 0
RETURN 'Batch' AS label, b.id AS id, b.status AS status, recalls
