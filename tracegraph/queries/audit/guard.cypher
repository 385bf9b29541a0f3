// Opening of every audited write. Takes the write lock on the single AuditHead (the SET
// makes Neo4j lock it before the seq is read) and continues only if nobody appended since
// the caller read the head: compare-and-set on the sequence number.
// Parameters: $audit_prev_seq, $audit_entry (map).
MATCH (h:AuditHead {id: 'main'})
SET h.locked_at = $audit_entry.ts
WITH h WHERE h.seq = $audit_prev_seq
