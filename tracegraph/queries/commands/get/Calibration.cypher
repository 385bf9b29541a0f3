// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Calibration with every property.
MATCH (n:Calibration {id: $key})
RETURN properties(n) AS props
