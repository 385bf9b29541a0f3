// Fingerprint of real unit/batch statuses (drills prove they left them untouched).
MATCH (s:Serial)
WHERE s.batch_id IN $batches
RETURN s.status AS status, count(s) AS n, sum(size(coalesce(s.customer_id, ''))) AS holder_chars
ORDER BY status
