// Trace index freshness: what the audit entries after the index's seq were about.
MATCH (e:AuditEntry)
WHERE e.seq > $after AND e.seq <= $upto
RETURN e.target_label AS label, e.action AS action
