// Every audit entry that disabled or enabled a user, in seq order: the review derives when
// each user was disabled from these (before and during the reviewed period).
MATCH (e:AuditEntry)
WHERE e.target_label = 'User' AND e.action IN $actions AND e.ts < $to
RETURN e.seq AS seq, e.ts AS ts, e.action AS action, e.target_key AS user
ORDER BY seq
