// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Release with every property.
MATCH (n:Release {id: $key})
RETURN properties(n) AS props
