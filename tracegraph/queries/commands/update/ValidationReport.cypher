// GENERATED from queries/commands/templates/update.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// Change properties of one ValidationReport that is not retired (null removes a property).
//#include audit.guard
MATCH (n:ValidationReport {id: $key})
WHERE coalesce(n.retired, false) = false OR $allow_retired
SET n += $props
WITH h, [n] AS audit_targets
//#include audit.append
