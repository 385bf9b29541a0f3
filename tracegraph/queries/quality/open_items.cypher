// Open quality records of every type: id, type, status, owner, created and due dates (dashboards).
// A reportable complaint not yet reported is due at its report deadline.
MATCH (n)
WHERE (n:Complaint OR n:Deviation OR n:CAPA OR n:ChangeControl OR n:Release)
  AND NOT n.status IN ['closed', 'cancelled', 'rejected', 'released']
  AND coalesce(n.retired, false) = false
RETURN n.id AS id, labels(n)[0] AS type, n.status AS status, coalesce(n.owner, n.created_by) AS owner,
       n.created_at AS created_at,
       CASE WHEN n.reported_at IS NULL AND n.report_due IS NOT NULL THEN n.report_due ELSE n.due_date END AS due_date
ORDER BY created_at
