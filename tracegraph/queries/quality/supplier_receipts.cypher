// Every material lot receipt with its supplier's properties (status history included).
MATCH (s:Supplier)-[r:SUPPLIED]->(l:MaterialLot)
WHERE $supplier IS NULL OR s.id = $supplier
WITH s, l, coalesce(r.date, l.received_at) AS received
WHERE received IS NOT NULL
RETURN l.id AS lot, received, properties(s) AS supplier
ORDER BY received, lot
