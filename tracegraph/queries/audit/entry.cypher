// One entry by seq, every stored property.
MATCH (e:AuditEntry {seq: $seq})
RETURN properties(e) AS e
