// The seals `epcis.tx_retract` deletes (loaders/epcis_retract.py): every edge it removes and every node it
// drops with all of that node's edges, as [kind, id, seal, sealed_seq, edges], so the statement's audit
// entry drops exactly them (engine/audit/seals.py). $rows as for epcis.retract.
UNWIND $rows AS r
OPTIONAL MATCH (:Shipment {id: r.t})<-[e1:SHIPPED_IN]-(a1) WHERE r.kind = 'SHIPPED_IN' AND a1.id = r.f AND e1.via IS NULL
OPTIONAL MATCH (:Shipment {id: r.f})-[e2:DELIVERED_TO]->(:Customer {id: r.t}) WHERE r.kind = 'DELIVERED_TO'
OPTIONAL MATCH (:Container {id: r.t})<-[e3:PACKED_IN]-(a3) WHERE r.kind = 'PACKED_IN' AND a3.id = r.f
OPTIONAL MATCH (:Batch {id: r.t})<-[e4:CONSUMED_IN]-(a4) WHERE r.kind = 'CONSUMED_IN' AND a4.id = r.f
OPTIONAL MATCH (:Serial {id: r.t})<-[e5:PRODUCED]-(:Batch {id: r.f}) WHERE r.kind = 'PRODUCED'
OPTIONAL MATCH (:Serial {id: r.t})<-[e6:COMPONENT_OF]-(:Serial {id: r.f}) WHERE r.kind = 'COMPONENT_OF'
OPTIONAL MATCH (:Return {id: r.t})<-[e7:RETURNED_IN]-(a7) WHERE r.kind = 'RETURNED_IN' AND a7.id = r.f AND e7.via IS NULL
WITH r, collect(DISTINCT e1) + collect(DISTINCT e2) + collect(DISTINCT e3) + collect(DISTINCT e4)
     + collect(DISTINCT e5) + collect(DISTINCT e6) + collect(DISTINCT e7) AS es
UNWIND es AS e
RETURN 'edge' AS kind, id(e) AS id, e.seal AS s, e.sealed_seq AS q, [] AS es
UNION ALL
UNWIND $rows AS r
OPTIONAL MATCH (s:Shipment {id: r.f}) WHERE r.kind = 'drop_Shipment'
OPTIONAL MATCH (t:Return {id: r.f}) WHERE r.kind = 'drop_Return'
OPTIONAL MATCH (c:Customer {id: r.f}) WHERE r.kind = 'drop_Customer'
OPTIONAL MATCH (u:Serial {id: r.f}) WHERE r.kind = 'drop_Serial'
OPTIONAL MATCH (b:Batch {id: r.f}) WHERE r.kind = 'drop_Batch'
OPTIONAL MATCH (l:MaterialLot {id: r.f}) WHERE r.kind = 'drop_MaterialLot'
OPTIONAL MATCH (p:Product {id: r.f}) WHERE r.kind = 'drop_Product'
OPTIONAL MATCH (m:Material {id: r.f}) WHERE r.kind = 'drop_Material'
WITH [x IN [s, t, c, u, b, l, p, m] WHERE x IS NOT NULL] AS ns
UNWIND ns AS x
OPTIONAL MATCH (x)-[e]-()
RETURN 'node' AS kind, id(x) AS id, x.seal AS s, x.sealed_seq AS q, collect([id(e), e.seal, e.sealed_seq]) AS es
