// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Recall with every property.
MATCH (n:Recall {id: $key})
RETURN properties(n) AS props
