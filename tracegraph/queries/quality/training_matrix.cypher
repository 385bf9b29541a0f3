// Active users x effective documents that require training: trained on that version or not.
MATCH (d:Document)
WHERE d.status = 'effective' AND coalesce(d.training_required, true) = true
WITH collect(d) AS docs
MATCH (u:User)
WHERE u.status = 'active' AND ($role IS NULL OR $role IN u.roles)
UNWIND docs AS d
OPTIONAL MATCH (t:TrainingRecord)
WHERE t.user_id = u.id AND t.document_id = d.id AND coalesce(t.status, 'completed') = 'completed'
RETURN u.id AS user, u.name AS name, d.id AS document, d.title AS title, count(t) > 0 AS trained
ORDER BY user, document
