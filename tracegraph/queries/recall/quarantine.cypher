// Quarantine every covered unit and batch still in our stock so it cannot ship.
// The previous status is kept so a cancelled recall can release them.
//#include audit.guard
MATCH (r:Recall {id: $id})
WHERE NOT coalesce(r.drill, false)
OPTIONAL MATCH (r)-[cv:COVERS]->(s:Serial)
WHERE s.status = 'in_stock'
FOREACH (_ IN CASE WHEN s IS NULL THEN [] ELSE [1] END |
  SET s.status_before_quarantine = s.status, s.status = 'quarantined', s.quarantine_recall = r.id,
      s.updated_at = $now, cv.quarantined_at = $now)
WITH h, r, count(s) AS n_serials
OPTIONAL MATCH (r)-[cb:COVERS]->(b:Batch)
WHERE b.status IN ['released', 'in_process']
FOREACH (_ IN CASE WHEN b IS NULL THEN [] ELSE [1] END |
  SET b.status_before_quarantine = b.status, b.status = 'quarantined', b.quarantine_recall = r.id,
      b.updated_at = $now, cb.quarantined_at = $now)
WITH h, r, n_serials, count(b) AS n_batches
SET r.quarantined_serials = coalesce(r.quarantined_serials, 0) + n_serials,
    r.quarantined_batches = coalesce(r.quarantined_batches, 0) + n_batches,
    r.quarantined_at = $now, r.updated_at = $now
WITH h, [r] AS audit_targets
//#include audit.append
