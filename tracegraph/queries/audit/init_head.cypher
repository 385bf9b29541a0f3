MERGE (h:AuditHead {id: 'main'})
ON CREATE SET h.seq = 0, h.hash = $genesis
RETURN h.seq AS seq, h.hash AS hash
