// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One MaterialLot with every property.
MATCH (n:MaterialLot {id: $key})
RETURN properties(n) AS props
