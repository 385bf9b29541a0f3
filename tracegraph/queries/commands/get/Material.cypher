// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Material with every property.
MATCH (n:Material {id: $key})
RETURN properties(n) AS props
