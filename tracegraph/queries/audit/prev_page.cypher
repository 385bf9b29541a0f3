// PREV edges leaving the entries with $after < seq <= $upto: (from seq, to seq).
MATCH (e:AuditEntry)-[:PREV]->(p)
WHERE e.seq > $after AND e.seq <= $upto
RETURN e.seq AS seq, p.seq AS prev_seq
