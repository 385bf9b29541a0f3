// Current status of existing MaterialLot nodes an import would change (engine/status_policy.py).
UNWIND $keys AS k
MATCH (n:MaterialLot {id: k})
RETURN n.id AS id, n.status AS status
