// GENERATED from queries/commands/templates/link.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// (:MaterialLot {id: $from_key})-[:MERGED_INTO $props]->(:MaterialLot {id: $to_key}), audited on the source.
//#include audit.guard
MATCH (a:MaterialLot {id: $from_key})
MATCH (b:MaterialLot {id: $to_key})
CREATE (a)-[r:MERGED_INTO]->(b)
SET r = $props
SET r.seal = $seal, r.sealed_seq = $audit_entry.seq
WITH h, [a, b] AS audit_targets
//#include audit.append
