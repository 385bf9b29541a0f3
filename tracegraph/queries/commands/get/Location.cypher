// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Location with every property.
MATCH (n:Location {id: $key})
RETURN properties(n) AS props
