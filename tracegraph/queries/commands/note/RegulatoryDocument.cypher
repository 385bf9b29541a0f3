// GENERATED from queries/commands/templates/note.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// An audit entry about one RegulatoryDocument that changes nothing in it (refused signatures, notes).
//#include audit.guard
MATCH (n:RegulatoryDocument {id: $key})
WITH h, [n] AS audit_targets
//#include audit.append
