// GENERATED from queries/commands/templates/link.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// (:Customer {id: $from_key})-[:TRANSFERRED_TO $props]->(:Customer {id: $to_key}), audited on the source.
//#include audit.guard
MATCH (a:Customer {id: $from_key})
MATCH (b:Customer {id: $to_key})
CREATE (a)-[r:TRANSFERRED_TO]->(b)
SET r = $props
SET r.seal = $seal, r.sealed_seq = $audit_entry.seq
WITH h, [a, b] AS audit_targets
//#include audit.append
