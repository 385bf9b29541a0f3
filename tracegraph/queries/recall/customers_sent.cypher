// Mark many customers' notices as sent in one audited statement (mass mailing).
//#include audit.guard
MATCH (r:Recall {id: $id})
SET r.updated_at = $now
WITH h, r
UNWIND $customers AS cid
MATCH (r)-[a:AFFECTS]->(c:Customer {id: cid})
SET a.sent_at = $now, a.sent_by = $actor_id, a.status = 'sent', a.channel = coalesce($channel, a.channel)
WITH h, r, count(a) AS n
WITH h, [r] AS audit_targets
//#include audit.append
