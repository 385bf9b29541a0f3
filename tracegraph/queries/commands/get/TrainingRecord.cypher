// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One TrainingRecord with every property.
MATCH (n:TrainingRecord {id: $key})
RETURN properties(n) AS props
