// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One RegulatoryDocument with every property.
MATCH (n:RegulatoryDocument {id: $key})
RETURN properties(n) AS props
