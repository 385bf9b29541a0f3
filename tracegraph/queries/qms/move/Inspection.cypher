// GENERATED from queries/qms/templates/move.tmpl by
// tracegraph.engine.qms.lifecycle.generate_queries(): do not edit by hand.
// Move one Inspection along its lifecycle: only from an allowed status (compare-and-set on status).
//#include audit.guard
MATCH (n:Inspection {id: $key})
WHERE n.status IN $from_statuses AND coalesce(n.retired, false) = false
SET n += $props
WITH h, [n] AS audit_targets
//#include audit.append
