// GENERATED from queries/qms/templates/open.tmpl by
// tracegraph.engine.qms.lifecycle.generate_queries(): do not edit by hand.
// Open one Inspection and link it to the records it concerns, with its audit entry: ONE statement.
// The engine has checked that every key in $about exists (per label) before this runs.
//#include audit.guard
CREATE (n:Inspection)
SET n = $props
WITH h, n
OPTIONAL MATCH (s:Serial) WHERE s.id IN $about.Serial
WITH h, n, collect(s) AS t1
OPTIONAL MATCH (b:Batch) WHERE b.id IN $about.Batch
WITH h, n, t1, collect(b) AS t2
OPTIONAL MATCH (l:MaterialLot) WHERE l.id IN $about.MaterialLot
WITH h, n, t1, t2, collect(l) AS t3
OPTIONAL MATCH (e:Equipment) WHERE e.id IN $about.Equipment
WITH h, n, t1, t2, t3, collect(e) AS t4
OPTIONAL MATCH (d:Document) WHERE d.id IN $about.Document
WITH h, n, t1, t2, t3, t4, collect(d) AS t5
OPTIONAL MATCH (p:Supplier) WHERE p.id IN $about.Supplier
WITH h, n, t1, t2, t3, t4, t5, collect(p) AS t6
OPTIONAL MATCH (c:Complaint) WHERE c.id IN $addresses.Complaint
WITH h, n, t1, t2, t3, t4, t5, t6, collect(c) AS a1
OPTIONAL MATCH (v:Deviation) WHERE v.id IN $addresses.Deviation
WITH h, n, t1, t2, t3, t4, t5, t6, a1, collect(v) AS a2
// (FalkorDB cannot mix collect() with other list terms in one projection: concatenate here)
WITH h, n, t1 + t2 + t3 + t4 + t5 + t6 AS about, a1 + a2 AS addressed
FOREACH (t IN about | CREATE (n)-[:INSPECTED]->(t))
FOREACH (t IN addressed | CREATE (n)-[:ADDRESSES]->(t))
WITH h, [n] AS audit_targets
//#include audit.append
