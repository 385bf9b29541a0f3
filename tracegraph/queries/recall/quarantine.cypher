// Quarantine every covered unit and batch still in our stock so it cannot ship, and the suspect
// material lots ($lots: the cause's lots and the lots split/merged from them) whose remaining stock
// is still `available`, so it cannot be consumed into new batches.
// The previous status is kept so a cancelled recall can release them. $seals: {serials, batches,
// lots} -> {id: new seal} (engine/audit/seals.py), read and computed just before this statement.
//#include audit.guard
MATCH (r:Recall {id: $id})
WHERE NOT coalesce(r.drill, false)
OPTIONAL MATCH (r)-[cv:COVERS]->(s:Serial)
WHERE s.status = 'in_stock'
FOREACH (_ IN CASE WHEN s IS NULL THEN [] ELSE [1] END |
  SET s.status_before_quarantine = s.status, s.status = 'quarantined', s.quarantine_recall = r.id,
      s.updated_at = $now, cv.quarantined_at = $now,
      s.seal = $seals.serials[s.id], s.sealed_seq = $audit_entry.seq)
WITH h, r, count(s) AS n_serials
OPTIONAL MATCH (r)-[cb:COVERS]->(b:Batch)
WHERE b.status IN ['released', 'in_process']
FOREACH (_ IN CASE WHEN b IS NULL THEN [] ELSE [1] END |
  SET b.status_before_quarantine = b.status, b.status = 'quarantined', b.quarantine_recall = r.id,
      b.updated_at = $now, cb.quarantined_at = $now,
      b.seal = $seals.batches[b.id], b.sealed_seq = $audit_entry.seq)
WITH h, r, n_serials, count(b) AS n_batches
OPTIONAL MATCH (l:MaterialLot)
WHERE l.id IN $lots AND l.status = 'available'
FOREACH (_ IN CASE WHEN l IS NULL THEN [] ELSE [1] END |
  SET l.status_before_quarantine = l.status, l.status = 'quarantined', l.quarantine_recall = r.id,
      l.updated_at = $now, l.seal = $seals.lots[l.id], l.sealed_seq = $audit_entry.seq)
WITH h, r, n_serials, n_batches, [x IN collect(l.id) WHERE x IS NOT NULL] AS lot_ids
SET r.quarantined_serials = coalesce(r.quarantined_serials, 0) + n_serials,
    r.quarantined_batches = coalesce(r.quarantined_batches, 0) + n_batches,
    r.quarantined_lots = coalesce(r.quarantined_lots, []) + lot_ids,
    r.quarantined_at = $now, r.updated_at = $now
WITH h, [r] AS audit_targets
//#include audit.append
