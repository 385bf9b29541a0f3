// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One AuditReview with every property.
MATCH (n:AuditReview {id: $key})
RETURN properties(n) AS props
