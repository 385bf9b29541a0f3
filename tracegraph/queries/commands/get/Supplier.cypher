// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Supplier with every property.
MATCH (n:Supplier {id: $key})
RETURN properties(n) AS props
