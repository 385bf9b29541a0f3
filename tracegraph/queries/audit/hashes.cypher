// Entry hashes in seq order for $after < seq <= $upto (Merkle tree leaves).
MATCH (e:AuditEntry)
WHERE e.seq > $after AND e.seq <= $upto
RETURN e.seq AS seq, e.hash AS hash
ORDER BY e.seq
