// Current status of existing Serial nodes an import would change (engine/status_policy.py).
UNWIND $keys AS k
MATCH (n:Serial {id: k})
RETURN n.id AS id, n.status AS status
