// Completed training records of some users on some document versions.
MATCH (t:TrainingRecord)
WHERE t.user_id IN $users AND t.document_id IN $documents
  AND coalesce(t.status, 'completed') = 'completed' AND coalesce(t.retired, false) = false
RETURN t.user_id AS user, t.document_id AS document, t.trained_at AS trained_at
