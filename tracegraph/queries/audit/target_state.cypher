// Current properties of the records that entries are about, reached through their ABOUT edge
// (indexed by seq; no label scan). $seqs: the last entry seq of each audited record.
UNWIND $seqs AS s
MATCH (e:AuditEntry {seq: s})
OPTIONAL MATCH (e)-[:ABOUT]->(n)
WHERE n.id = e.target_key AND e.target_label IN labels(n)
RETURN s AS seq, properties(n) AS props
