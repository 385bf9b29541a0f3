// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One CAPA with every property.
MATCH (n:CAPA {id: $key})
RETURN properties(n) AS props
