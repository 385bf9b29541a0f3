// One page of the chain for `audit verify`: the hashed fields of entries with
// $after < seq <= $upto in seq order, plus how many properties each has (an added one shows).
// Column order is fixed: engine/audit/verify.py reads rows positionally.
MATCH (e:AuditEntry)
WHERE e.seq > $after AND e.seq <= $upto
RETURN e.seq AS seq, e.ts AS ts, e.actor AS actor, e.actor_name AS actor_name, e.action AS action,
       e.target_label AS target_label, e.target_key AS target_key, e.changes AS changes,
       e.reason AS reason, e.session AS session, e.prev_hash AS prev_hash, e.hash AS hash,
       size(keys(e)) AS nkeys
ORDER BY seq
