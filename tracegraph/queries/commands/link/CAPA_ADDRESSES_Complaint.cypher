// GENERATED from queries/commands/templates/link.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// (:CAPA {id: $from_key})-[:ADDRESSES $props]->(:Complaint {id: $to_key}), audited on the source.
//#include audit.guard
MATCH (a:CAPA {id: $from_key})
MATCH (b:Complaint {id: $to_key})
CREATE (a)-[r:ADDRESSES]->(b)
SET r = $props
SET r.seal = $seal, r.sealed_seq = $audit_entry.seq
WITH h, [a, b] AS audit_targets
//#include audit.append
