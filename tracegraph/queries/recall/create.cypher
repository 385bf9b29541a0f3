// Create a Recall and freeze its affected set in ONE statement with ONE audit entry:
// COVERS edges to serials (status and holder read from the graph at decision time), to
// batches (quantities of non-serialised stock), AFFECTS edges to every consignee with its role
// (holder, passed_on, both) and unit counts (held, received, passed on).
// Empty lists are replaced by [null] so an UNWIND never ends the statement early.
//#include audit.guard
CREATE (r:Recall)
SET r = $props
WITH h, r
UNWIND (CASE WHEN size($serials) = 0 THEN [null] ELSE $serials END) AS sid
OPTIONAL MATCH (s:Serial {id: sid})
FOREACH (_ IN CASE WHEN s IS NULL THEN [] ELSE [1] END |
  CREATE (r)-[:COVERS {qty: 1.0, kind: 'serial', status_at_decision: coalesce(s.status, 'unknown'),
                       customer_at_decision: coalesce(s.customer_id, ''), batch_id: coalesce(s.batch_id, '')}]->(s))
WITH h, r, count(s) AS n_serials
UNWIND (CASE WHEN size($batches) = 0 THEN [null] ELSE $batches END) AS bb
OPTIONAL MATCH (b:Batch {id: bb.id})
FOREACH (_ IN CASE WHEN b IS NULL THEN [] ELSE [1] END |
  CREATE (r)-[:COVERS {qty: bb.qty, kind: 'batch', status_at_decision: coalesce(b.status, 'unknown'),
                       serialised: bb.serialised}]->(b))
WITH h, r, n_serials, count(b) AS n_batches
UNWIND (CASE WHEN size($customers) = 0 THEN [null] ELSE $customers END) AS cc
OPTIONAL MATCH (c:Customer {id: cc.id})
FOREACH (_ IN CASE WHEN c IS NULL THEN [] ELSE [1] END |
  CREATE (r)-[:AFFECTS {units: cc.units, serial_units: cc.serial_units, qty_units: cc.qty_units,
                        role: cc.role, units_received: cc.units_received, units_passed_on: cc.units_passed_on,
                        language: cc.language, channel: cc.channel, status: 'pending',
                        returned: 0.0, destroyed: 0.0, corrected: 0.0, consumed: 0.0, not_found: 0.0}]->(c))
WITH h, r, n_serials, n_batches, count(c) AS n_customers
SET r.serials_covered = n_serials, r.batches_covered = n_batches, r.customers_affected = n_customers
WITH h, [r] AS audit_targets
//#include audit.append
