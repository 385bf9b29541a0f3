// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Return with every property.
MATCH (n:Return {id: $key})
RETURN properties(n) AS props
