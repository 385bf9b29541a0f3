// Current status of existing Equipment nodes an import would change (engine/status_policy.py).
UNWIND $keys AS k
MATCH (n:Equipment {id: k})
RETURN n.id AS id, n.status AS status
