// How many entries exist and their seq range (a deleted or renumbered entry shows here).
MATCH (e:AuditEntry)
RETURN count(e) AS count, min(e.seq) AS min_seq, max(e.seq) AS max_seq
