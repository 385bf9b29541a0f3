// Shared tail of every backward trace (included, never run alone). Expects one `start` row.
// Everything upstream over the material-flow edges, deduplicated (rework loops end), each node
// with its incoming flow edges, the quality records ABOUT it (complaints, deviations, CAPAs, change
// controls) and the CAPAs addressing those, its suppliers (SUPPLIED properties) and incoming
// inspections, in one statement.
MATCH (start)<-[:CONSUMED_IN|SPLIT_INTO|MERGED_INTO|PRODUCED|COMPONENT_OF*0..]-(n)
WITH DISTINCT n
OPTIONAL MATCH (m)-[r:CONSUMED_IN|SPLIT_INTO|MERGED_INTO|PRODUCED|COMPONENT_OF]->(n)
WITH n, collect(CASE WHEN r IS NULL THEN null ELSE [type(r), labels(m)[0], m.id, r.qty] END) AS ins
OPTIONAL MATCH (q)-[:ABOUT]->(n)
WHERE q:Complaint OR q:Deviation OR q:CAPA OR q:ChangeControl
OPTIONAL MATCH (cp:CAPA)-[:ADDRESSES]->(q)
WITH n, ins, collect(CASE WHEN q IS NULL THEN null ELSE [labels(q)[0], q.id, q.title, q.status] END) +
     collect(CASE WHEN cp IS NULL THEN null ELSE [labels(cp)[0], cp.id, cp.title, cp.status] END) AS qs
OPTIONAL MATCH (s:Supplier)-[sr:SUPPLIED]->(n)
WITH n, ins, qs, collect(CASE WHEN s IS NULL THEN null ELSE [s.id, s.name, s.status, sr.date, sr.qty, sr.po] END) AS sup
OPTIONAL MATCH (i:Inspection)-[:INSPECTED]->(n)
RETURN labels(n)[0] AS l, n AS node, ins, qs, sup,
       collect(CASE WHEN i IS NULL THEN null ELSE [i.id, i.date, i.result, i.sample_size, i.defects] END) AS insp
