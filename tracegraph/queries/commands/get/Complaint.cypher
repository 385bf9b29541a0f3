// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Complaint with every property.
MATCH (n:Complaint {id: $key})
RETURN properties(n) AS props
