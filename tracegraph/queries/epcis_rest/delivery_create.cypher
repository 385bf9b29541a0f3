// Put one webhook delivery in the durable outbox (created in the graph, so a restart loses none).
//#include audit.guard
MATCH (s:Subscription {id: $subscription})
CREATE (d:Delivery)
SET d = $props
CREATE (d)-[:FOR]->(s)
WITH h, [d] AS audit_targets
//#include audit.append
