MATCH (p:ImportPending) WHERE p.import_id = $import_id
RETURN p.id AS id, p.seq AS seq, p.query AS query, p.kind AS kind, p.payload AS payload, p.count AS count,
       p.changes AS changes, p.done AS done
ORDER BY seq
