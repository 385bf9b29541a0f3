// The seals `epcis.tx_unlink_pack` deletes with the PACKED_IN links of $rows, as [kind, id, seal,
// sealed_seq] (no edges of their own: `es` is empty), so the statement's audit entry drops exactly them
// (engine/audit/seals.py).
UNWIND $rows AS r
MATCH (k:Container {id: r.t})<-[p:PACKED_IN]-(c)
WHERE c.id = r.f AND coalesce(p.from, '') = r.from AND p.import_id IS NULL
RETURN 'edge' AS kind, id(p) AS id, p.seal AS s, p.sealed_seq AS q, [] AS es
