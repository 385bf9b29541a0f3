// GENERATED from queries/commands/templates/link.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// (:Serial {id: $from_key})-[:COMPONENT_OF $props]->(:Serial {id: $to_key}), audited on the source.
//#include audit.guard
MATCH (a:Serial {id: $from_key})
MATCH (b:Serial {id: $to_key})
CREATE (a)-[r:COMPONENT_OF]->(b)
SET r = $props
SET r.seal = $seal, r.sealed_seq = $audit_entry.seq
WITH h, [a, b] AS audit_targets
//#include audit.append
