// Trace index freshness: what the audit entries after the index's seq were about.
MATCH (e:AuditEntry)
WHERE e.seq > $after AND e.seq <= $upto
RETURN e.seq AS seq, e.target_label AS label, e.target_key AS key, e.action AS action
