// GENERATED from queries/commands/templates/link.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// (:Batch {id: $from_key})-[:PROCESSED_ON $props]->(:Equipment {id: $to_key}), audited on the source.
//#include audit.guard
MATCH (a:Batch {id: $from_key})
MATCH (b:Equipment {id: $to_key})
CREATE (a)-[r:PROCESSED_ON]->(b)
SET r = $props
SET r.seal = $seal, r.sealed_seq = $audit_entry.seq
WITH h, [a, b] AS audit_targets
//#include audit.append
