// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Batch with every property.
MATCH (n:Batch {id: $key})
RETURN properties(n) AS props
