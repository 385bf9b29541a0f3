// Raise new alerts (deduplicated by id by the engine) in one audited statement.
//#include audit.guard
UNWIND $alerts AS al
MATCH (r:Recall {id: al.recall})
CREATE (a:RecallAlert)
SET a = al
CREATE (r)-[:RAISED]->(a)
WITH h, collect(a) AS audit_targets
//#include audit.append
