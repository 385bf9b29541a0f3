// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Document with every property.
MATCH (n:Document {id: $key})
RETURN properties(n) AS props
