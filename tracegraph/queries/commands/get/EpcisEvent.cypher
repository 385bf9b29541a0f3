// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One EpcisEvent with every property.
MATCH (n:EpcisEvent {id: $key})
RETURN properties(n) AS props
