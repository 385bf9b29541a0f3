// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Deviation with every property.
MATCH (n:Deviation {id: $key})
RETURN properties(n) AS props
