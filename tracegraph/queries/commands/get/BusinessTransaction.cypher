// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One BusinessTransaction with every property.
MATCH (n:BusinessTransaction {id: $key})
RETURN properties(n) AS props
