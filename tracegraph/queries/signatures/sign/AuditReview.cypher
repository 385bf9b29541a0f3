// GENERATED from queries/signatures/templates/sign.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// Sign one AuditReview: create the Signature, link (Signature)-[:SIGNED]->(record), audit it.
//#include audit.guard
MATCH (n:AuditReview {id: $key})
CREATE (s:Signature)
SET s = $props
CREATE (s)-[:SIGNED]->(n)
WITH h, [s, n] AS audit_targets
//#include audit.append
