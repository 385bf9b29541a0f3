// GENERATED from queries/commands/templates/create.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// Create one ValidationReport (all properties in $props, key included) and its audit entry.
//#include audit.guard
CREATE (n:ValidationReport)
SET n = $props
WITH h, [n] AS audit_targets
//#include audit.append
