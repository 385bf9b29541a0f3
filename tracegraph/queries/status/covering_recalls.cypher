// Open (not closed, not cancelled, not a drill) recalls whose frozen snapshot covers one record:
// its quarantine may not be lifted by a generic status change while they run.
MATCH (r:Recall)-[:COVERS]->(x)
WHERE x.id = $key AND $label IN labels(x)
  AND NOT r.status IN ['closed', 'cancelled'] AND coalesce(r.drill, false) = false
RETURN r.id AS id, r.status AS status
ORDER BY id
