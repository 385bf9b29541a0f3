// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Product with every property.
MATCH (n:Product {id: $key})
RETURN properties(n) AS props
