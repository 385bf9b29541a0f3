// GENERATED from queries/commands/templates/get.tmpl by
// tracegraph.engine.commands.generate_queries(): do not edit by hand.
// One Shipment with every property.
MATCH (n:Shipment {id: $key})
RETURN properties(n) AS props
