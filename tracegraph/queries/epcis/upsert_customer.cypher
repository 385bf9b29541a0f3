// EPCIS import: create or update Customer nodes by key. $rows: [{id, create, props}]; `create`
// holds defaults set only on creation, `props` the facts the events state. One audited chunk.
//#include audit.guard
WITH h
UNWIND $rows AS r
MERGE (n:Customer {id: r.id})
ON CREATE SET n += r.create, n.created_at = $now, n.source = $source, n.import_id = $import_id
SET n += r.props, n.updated_at = $now, n.last_import_id = $import_id, n.seal = r.seal, n.sealed_seq = $audit_entry.seq
WITH h, count(n) AS written
WITH h, [] AS audit_targets
//#include audit.append
