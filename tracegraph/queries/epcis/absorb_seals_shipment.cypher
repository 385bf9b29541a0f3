// The seals `epcis.tx_absorb_shipment` deletes with the Shipment nodes of $rows (and, with r.drop_customer,
// the Customer only each was delivered to): every node and edge it removes, as [kind, id, seal,
// sealed_seq], so the statement's audit entry drops exactly them (engine/audit/seals.py).
UNWIND $rows AS r
MATCH (n:Shipment {id: r.id})
OPTIONAL MATCH (n)-[:DELIVERED_TO]->(c:Customer) WHERE r.drop_customer = true
WITH n, [x IN collect(c) WHERE x IS NOT NULL] AS cs
UNWIND [n] + cs AS x
OPTIONAL MATCH (x)-[e]-()
RETURN 'node' AS kind, id(x) AS id, x.seal AS s, x.sealed_seq AS q, collect([id(e), e.seal, e.sealed_seq]) AS es
