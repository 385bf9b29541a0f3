// GENERATED from queries/commands/templates/create.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// Create one AuditReview (all properties in $props, key included) and its audit entry.
//#include audit.guard
CREATE (n:AuditReview)
SET n = $props
WITH h, [n] AS audit_targets
//#include audit.append
