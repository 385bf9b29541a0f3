// One notification step for one customer of a recall (sent, delivered, acknowledged, stock count).
//#include audit.guard
MATCH (r:Recall {id: $id})-[a:AFFECTS]->(c:Customer {id: $customer})
SET a += $props, r.updated_at = $now
WITH h, [r, c] AS audit_targets
//#include audit.append
