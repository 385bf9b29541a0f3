// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Customer with every property.
MATCH (n:Customer {id: $key})
RETURN properties(n) AS props
