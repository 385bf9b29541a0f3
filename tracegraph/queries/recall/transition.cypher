// Move a Recall from one of $from_status to new properties (status and timestamps), creating
// the electronic signatures of the step (if any) in the same statement.
//#include audit.guard
MATCH (r:Recall {id: $id})
WHERE r.status IN $from_status
SET r += $props
FOREACH (sg IN $signatures |
  CREATE (x:Signature)
  SET x = sg
  CREATE (x)-[:SIGNED]->(r))
WITH h, [r] AS audit_targets
//#include audit.append
