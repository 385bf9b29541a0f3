// Deliveries of one subscription, newest first.
MATCH (d:Delivery {subscription: $subscription})
RETURN properties(d) AS d
ORDER BY d.created_at DESC, d.id DESC
LIMIT $limit
