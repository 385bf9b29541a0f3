// GENERATED from queries/commands/templates/link.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// (:Equipment {id: $from_key})-[:DOCUMENTED_BY $props]->(:Document {id: $to_key}), audited on the source.
//#include audit.guard
MATCH (a:Equipment {id: $from_key})
MATCH (b:Document {id: $to_key})
CREATE (a)-[r:DOCUMENTED_BY]->(b)
SET r = $props
SET r.seal = $seal, r.sealed_seq = $audit_entry.seq
WITH h, [a, b] AS audit_targets
//#include audit.append
