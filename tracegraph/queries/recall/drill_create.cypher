// Keep the record of a mock recall drill for inspectors.
//#include audit.guard
MATCH (r:Recall {id: $recall})
CREATE (d:RecallDrill)
SET d = $props
CREATE (d)-[:EXERCISED]->(r)
WITH h, [d] AS audit_targets
//#include audit.append
