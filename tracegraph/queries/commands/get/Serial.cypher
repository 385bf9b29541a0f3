// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Serial with every property.
MATCH (n:Serial {id: $key})
RETURN properties(n) AS props
