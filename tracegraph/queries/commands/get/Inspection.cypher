// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Inspection with every property.
MATCH (n:Inspection {id: $key})
RETURN properties(n) AS props
