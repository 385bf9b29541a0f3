// Every AuditHead (there must be exactly one) with its seq and hash.
MATCH (h:AuditHead)
RETURN h.id AS id, h.seq AS seq, h.hash AS hash
