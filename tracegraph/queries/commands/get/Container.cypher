// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Container with every property.
MATCH (n:Container {id: $key})
RETURN properties(n) AS props
