// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One ChangeControl with every property.
MATCH (n:ChangeControl {id: $key})
RETURN properties(n) AS props
