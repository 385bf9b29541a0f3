// Tail of every audited write: expects exactly one row with `h` (the AuditHead) and
// `audit_targets` (list of nodes the entry is about; may be empty) in scope.
CREATE (e:AuditEntry)
SET e = $audit_entry
SET h.seq = $audit_entry.seq, h.hash = $audit_entry.hash
WITH e, audit_targets
OPTIONAL MATCH (p:AuditEntry {seq: $audit_prev_seq})
FOREACH (x IN CASE WHEN p IS NULL THEN [] ELSE [p] END | CREATE (e)-[:PREV]->(x))
FOREACH (t IN audit_targets | CREATE (e)-[:ABOUT]->(t))
RETURN e.seq AS audit_seq, e.hash AS audit_hash
