// GENERATED from queries/qms/templates/get.tmpl by
// tracegraph.engine.qms.lifecycle.generate_queries(): do not edit by hand.
// One Inspection with what it concerns and which other quality records address it.
MATCH (n:Inspection {id: $key})
OPTIONAL MATCH (n)-[:INSPECTED|ADDRESSES]->(t)
WITH n, collect(DISTINCT {id: t.id, label: labels(t)[0]}) AS concerns
OPTIONAL MATCH (q)-[:ADDRESSES|ABOUT]->(n)
WITH n, concerns, collect(DISTINCT {id: q.id, label: labels(q)[0]}) AS addressed_by
RETURN properties(n) AS props,
       [c IN concerns WHERE c.id IS NOT NULL] AS concerns,
       [q IN addressed_by WHERE q.id IS NOT NULL AND q.label <> 'AuditEntry' AND q.label <> 'Signature'] AS addressed_by
