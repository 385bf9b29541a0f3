MATCH (h:AuditHead {id: 'main'})
RETURN h.seq AS seq, h.hash AS hash
