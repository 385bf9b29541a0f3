// GENERATED from epcis/retract.cypher for the all-or-nothing EPCIS import (loaders/epcis_write.py):
// the same write, run as a step of ImportRun $import_id while it is in status $phase (staging or
// committing); a commit step also marks its ImportPending $pending_id done, so it applies once.
// GS1 error declarations (loaders/epcis_retract.py): undo what an erroneous event did. $rows, one per
// effect the remaining events do not make again: {kind, f, t, from}. kind is an edge type (from f to t;
// SHIPPED_IN and RETURNED_IN only the item's own link, not one derived through a container; PACKED_IN
// every interval of child f in container t, the import writes the intervals all the events give again)
// or 'drop_Shipment' / 'drop_Return' / 'drop_Customer' / 'drop_Serial' / 'drop_Batch' / 'drop_MaterialLot' /
// 'drop_Product' / 'drop_Material' (the record f and its links, when no remaining event makes or names it:
// a unit or lot commissioned by mistake, and the product or material only such records named). The
// mapping never names an edge whose end it drops. Rows of kind 'recheck' (a container
// whose contents' status the containment derivation classifies again) match nothing here.
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (:Shipment {id: r.t})<-[e1:SHIPPED_IN]-(a1) WHERE r.kind = 'SHIPPED_IN' AND a1.id = r.f AND e1.via IS NULL
OPTIONAL MATCH (:Shipment {id: r.f})-[e2:DELIVERED_TO]->(:Customer {id: r.t}) WHERE r.kind = 'DELIVERED_TO'
OPTIONAL MATCH (:Container {id: r.t})<-[e3:PACKED_IN]-(a3) WHERE r.kind = 'PACKED_IN' AND a3.id = r.f
OPTIONAL MATCH (:Batch {id: r.t})<-[e4:CONSUMED_IN]-(a4) WHERE r.kind = 'CONSUMED_IN' AND a4.id = r.f
OPTIONAL MATCH (:Serial {id: r.t})<-[e5:PRODUCED]-(:Batch {id: r.f}) WHERE r.kind = 'PRODUCED'
OPTIONAL MATCH (:Serial {id: r.t})<-[e6:COMPONENT_OF]-(:Serial {id: r.f}) WHERE r.kind = 'COMPONENT_OF'
OPTIONAL MATCH (:Return {id: r.t})<-[e7:RETURNED_IN]-(a7) WHERE r.kind = 'RETURNED_IN' AND a7.id = r.f AND e7.via IS NULL
WITH h, r, collect(DISTINCT e1) + collect(DISTINCT e2) + collect(DISTINCT e3) + collect(DISTINCT e4)
     + collect(DISTINCT e5) + collect(DISTINCT e6) + collect(DISTINCT e7) AS es
FOREACH (x IN es | DELETE x)
WITH h, r
OPTIONAL MATCH (s:Shipment {id: r.f}) WHERE r.kind = 'drop_Shipment'
OPTIONAL MATCH (t:Return {id: r.f}) WHERE r.kind = 'drop_Return'
OPTIONAL MATCH (c:Customer {id: r.f}) WHERE r.kind = 'drop_Customer'
OPTIONAL MATCH (u:Serial {id: r.f}) WHERE r.kind = 'drop_Serial'
OPTIONAL MATCH (b:Batch {id: r.f}) WHERE r.kind = 'drop_Batch'
OPTIONAL MATCH (l:MaterialLot {id: r.f}) WHERE r.kind = 'drop_MaterialLot'
OPTIONAL MATCH (p:Product {id: r.f}) WHERE r.kind = 'drop_Product'
OPTIONAL MATCH (m:Material {id: r.f}) WHERE r.kind = 'drop_Material'
WITH h, r, [x IN [s, t, c, u, b, l, p, m] WHERE x IS NOT NULL] AS ns
FOREACH (x IN ns | DETACH DELETE x)
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
