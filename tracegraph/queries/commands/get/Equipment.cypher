// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Equipment with every property.
MATCH (n:Equipment {id: $key})
RETURN properties(n) AS props
