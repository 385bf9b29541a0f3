// The seals `epcis.tx_retype_materiallot` deletes with the MaterialLot nodes of $rows (and, with r.drop_of, the
// Material only each named): every node and edge it removes, as [kind, id, seal, sealed_seq], so the
// statement's audit entry drops exactly them (engine/audit/seals.py).
UNWIND $rows AS r
MATCH (n:MaterialLot {id: r.id})
OPTIONAL MATCH (n)-[:OF]->(t:Material) WHERE r.drop_of = true
WITH n, [x IN collect(t) WHERE x IS NOT NULL] AS ts
UNWIND [n] + ts AS x
OPTIONAL MATCH (x)-[e]-()
RETURN 'node' AS kind, id(x) AS id, x.seal AS s, x.sealed_seq AS q, collect([id(e), e.seal, e.sealed_seq]) AS es
