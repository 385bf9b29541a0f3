// EPCIS aggregation DELETE: remove PACKED_IN edges into container r.t (all of its children when
// r.f is null, else only child r.f).
//#include audit.guard
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (c)-[p:PACKED_IN]->(k:Container {id: r.t})
WHERE r.f IS NULL OR c.id = r.f
DELETE p
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
