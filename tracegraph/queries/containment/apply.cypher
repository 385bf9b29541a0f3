// Write the derived containment facts of one chunk of items as ONE audited statement: drop the
// items' previously derived edges (those with `via`), create the new ones, the Return records of
// destroyed containers, and set the items' status and holder. $rows per kind:
// ship_*: [{f, t, via, qty}], ret_*: [{f, t, via, qty}], returns: [{id, date, customer_id, disposition}],
// status_*: [{id, status, customer}] (units also `box`: the container holding it now, null when
// loose). The items' ids to clear: $serials, $containers, $batches, $lots.
// Every row carries `seal`: the record's new seal (engine/audit/seals.py; a Return's is used only when created).
//#include audit.guard
WITH h
UNWIND ($serials + [null]) AS i
OPTIONAL MATCH (:Serial {id: i})-[x:SHIPPED_IN|RETURNED_IN]->()
WHERE x.via IS NOT NULL
WITH h, collect(x) AS xs
FOREACH (x IN xs | DELETE x)
WITH h
UNWIND ($containers + [null]) AS i
OPTIONAL MATCH (:Container {id: i})-[x:SHIPPED_IN|RETURNED_IN]->()
WHERE x.via IS NOT NULL
WITH h, collect(x) AS xs
FOREACH (x IN xs | DELETE x)
WITH h
UNWIND ($batches + [null]) AS i
OPTIONAL MATCH (:Batch {id: i})-[x:SHIPPED_IN|RETURNED_IN]->()
WHERE x.via IS NOT NULL
WITH h, collect(x) AS xs
FOREACH (x IN xs | DELETE x)
WITH h
UNWIND ($lots + [null]) AS i
OPTIONAL MATCH (:MaterialLot {id: i})-[x:SHIPPED_IN|RETURNED_IN]->()
WHERE x.via IS NOT NULL
WITH h, collect(x) AS xs
FOREACH (x IN xs | DELETE x)
WITH h
FOREACH (r IN $returns |
  MERGE (t:Return {id: r.id})
  ON CREATE SET t.date = r.date, t.customer_id = r.customer_id, t.disposition = r.disposition,
                t.derived = true, t.created_at = $now, t.seal = r.seal, t.sealed_seq = $audit_entry.seq)
FOREACH (r IN $ship_serial |
  MERGE (a:Serial {id: r.f}) MERGE (b:Shipment {id: r.t})
  MERGE (a)-[x:SHIPPED_IN {via: r.via}]->(b) SET x.qty = r.qty, x.seal = r.seal, x.sealed_seq = $audit_entry.seq)
FOREACH (r IN $ship_container |
  MERGE (a:Container {id: r.f}) MERGE (b:Shipment {id: r.t})
  MERGE (a)-[x:SHIPPED_IN {via: r.via}]->(b) SET x.qty = r.qty, x.seal = r.seal, x.sealed_seq = $audit_entry.seq)
FOREACH (r IN $ship_batch |
  MERGE (a:Batch {id: r.f}) MERGE (b:Shipment {id: r.t})
  MERGE (a)-[x:SHIPPED_IN {via: r.via}]->(b) SET x.qty = r.qty, x.seal = r.seal, x.sealed_seq = $audit_entry.seq)
FOREACH (r IN $ret_serial |
  MERGE (a:Serial {id: r.f}) MERGE (b:Return {id: r.t})
  MERGE (a)-[x:RETURNED_IN {via: r.via}]->(b) SET x.qty = r.qty, x.seal = r.seal, x.sealed_seq = $audit_entry.seq)
FOREACH (r IN $ret_container |
  MERGE (a:Container {id: r.f}) MERGE (b:Return {id: r.t})
  MERGE (a)-[x:RETURNED_IN {via: r.via}]->(b) SET x.qty = r.qty, x.seal = r.seal, x.sealed_seq = $audit_entry.seq)
FOREACH (r IN $ret_batch |
  MERGE (a:Batch {id: r.f}) MERGE (b:Return {id: r.t})
  MERGE (a)-[x:RETURNED_IN {via: r.via}]->(b) SET x.qty = r.qty, x.seal = r.seal, x.sealed_seq = $audit_entry.seq)
FOREACH (r IN $status_serial |
  MERGE (a:Serial {id: r.id}) SET a.status = r.status, a.customer_id = r.customer, a.container_id = r.box,
  a.updated_at = $now, a.seal = r.seal, a.sealed_seq = $audit_entry.seq)
FOREACH (r IN $status_container |
  MERGE (a:Container {id: r.id}) SET a.status = r.status, a.customer_id = r.customer, a.updated_at = $now)
WITH h, [] AS audit_targets
//#include audit.append
