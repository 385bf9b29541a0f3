// GENERATED from queries/commands/templates/link.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// (:Batch {id: $from_key})-[:OF $props]->(:Product {id: $to_key}), audited on the source.
//#include audit.guard
MATCH (a:Batch {id: $from_key})
MATCH (b:Product {id: $to_key})
CREATE (a)-[r:OF]->(b)
SET r = $props
SET r.seal = $seal, r.sealed_seq = $audit_entry.seq
WITH h, [a, b] AS audit_targets
//#include audit.append
