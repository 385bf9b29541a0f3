// EPCIS import: (EpcisEvent)-[:CONCERNS {role}]->(Serial): what an event names, by role.
//#include audit.guard
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (a:EpcisEvent {id: r.f})
OPTIONAL MATCH (b:Serial {id: r.t})
FOREACH (_ IN CASE WHEN a IS NULL OR b IS NULL THEN [] ELSE [1] END |
  MERGE (a)-[:CONCERNS {role: r.role}]->(b))
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
