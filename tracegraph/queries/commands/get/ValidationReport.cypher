// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One ValidationReport with every property.
MATCH (n:ValidationReport {id: $key})
RETURN properties(n) AS props
