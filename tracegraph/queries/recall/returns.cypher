// Account for recalled units of ONE customer: scanned serials get a disposition on their COVERS
// edge (once), the customer's counters on AFFECTS grow, and outside a drill returned/destroyed
// serials change status and a Return record is created (docs/model.md "Where a unit is now").
// Units another customer held at the decision and passed on (confirmed transfers, $credits: one
// {customer, n, add} per former holder) are credited to that holder's counters, so its
// reconciliation shows them accounted, and counted as transferred_in / transferred_out.
// $unit_seals, $edge_seals ({serial id: seal}) and $return_seal: the new seals (engine/audit/seals.py).
//#include audit.guard
MATCH (r:Recall {id: $id})-[a:AFFECTS]->(c:Customer {id: $customer})
SET a.returned = coalesce(a.returned, 0.0) + $add.returned,
    a.destroyed = coalesce(a.destroyed, 0.0) + $add.destroyed,
    a.corrected = coalesce(a.corrected, 0.0) + $add.corrected,
    a.consumed = coalesce(a.consumed, 0.0) + $add.consumed,
    a.not_found = coalesce(a.not_found, 0.0) + $add.not_found,
    a.transferred_in = coalesce(a.transferred_in, 0.0) + $transferred_in,
    a.last_return_at = $now,
    r.updated_at = $now
WITH h, r, c
UNWIND (CASE WHEN size($credits) = 0 THEN [null] ELSE $credits END) AS cr
OPTIONAL MATCH (r)-[a2:AFFECTS]->(:Customer {id: cr.customer})
FOREACH (_ IN CASE WHEN a2 IS NULL THEN [] ELSE [1] END |
  SET a2.returned = coalesce(a2.returned, 0.0) + cr.add.returned,
      a2.destroyed = coalesce(a2.destroyed, 0.0) + cr.add.destroyed,
      a2.corrected = coalesce(a2.corrected, 0.0) + cr.add.corrected,
      a2.consumed = coalesce(a2.consumed, 0.0) + cr.add.consumed,
      a2.not_found = coalesce(a2.not_found, 0.0) + cr.add.not_found,
      a2.transferred_out = coalesce(a2.transferred_out, 0.0) + cr.n,
      a2.last_return_at = $now)
WITH DISTINCT h, r, c
UNWIND (CASE WHEN size($serials) = 0 THEN [null] ELSE $serials END) AS sid
OPTIONAL MATCH (r)-[cv:COVERS]->(s:Serial {id: sid})
FOREACH (_ IN CASE WHEN cv IS NULL THEN [] ELSE [1] END |
  SET cv.disposition = $disposition, cv.accounted_at = $now, cv.accounted_by = $actor_id)
FOREACH (_ IN CASE WHEN cv IS NULL OR $new_status IS NULL THEN [] ELSE [1] END |
  SET s.status = $new_status, s.customer_id = null, s.updated_at = $now,
      s.seal = $unit_seals[s.id], s.sealed_seq = $audit_entry.seq)
WITH h, r, c, collect(s) AS units
FOREACH (rt IN CASE WHEN $return_node IS NULL THEN [] ELSE [$return_node] END |
  CREATE (ret:Return)
  SET ret = rt, ret.seal = $return_seal, ret.sealed_seq = $audit_entry.seq
  FOREACH (u IN units | CREATE (u)-[:RETURNED_IN {qty: 1.0, seal: $edge_seals[u.id], sealed_seq: $audit_entry.seq}]->(ret)))
WITH h, [r, c] AS audit_targets
//#include audit.append
