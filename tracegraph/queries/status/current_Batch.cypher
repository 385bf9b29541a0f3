// Current status of existing Batch nodes an import would change (engine/status_policy.py).
UNWIND $keys AS k
MATCH (n:Batch {id: k})
RETURN n.id AS id, n.status AS status
