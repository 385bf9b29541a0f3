// GENERATED from queries/qms/templates/list.tmpl by
// tracegraph.engine.qms.lifecycle.generate_queries(): do not edit by hand.
// One page of Inspection records, newest first, optionally by status; with what each concerns.
MATCH (n:Inspection)
WHERE ($status IS NULL OR n.status = $status) AND ($after IS NULL OR n.id < $after)
WITH n ORDER BY n.id DESC LIMIT $limit
OPTIONAL MATCH (n)-[:INSPECTED|ADDRESSES]->(t)
WITH n, collect(DISTINCT t.id) AS concerns
RETURN properties(n) AS props, concerns
ORDER BY props.id DESC
