// EPCIS import: (MaterialLot)-[:OF]->(Material) edges. $rows: [{f, t, props}]. Rows whose ends are
// missing are skipped (OPTIONAL MATCH keeps the statement, and its audit entry, alive).
//#include audit.guard
WITH h
UNWIND $rows AS r
OPTIONAL MATCH (a:MaterialLot {id: r.f})
OPTIONAL MATCH (b:Material {id: r.t})
FOREACH (_ IN CASE WHEN a IS NULL OR b IS NULL THEN [] ELSE [1] END |
  MERGE (a)-[x:OF]->(b)
  SET x += r.props, x.seal = r.seal, x.sealed_seq = $audit_entry.seq)
WITH h, count(r) AS written
WITH h, [] AS audit_targets
//#include audit.append
