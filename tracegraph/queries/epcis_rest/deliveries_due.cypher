// Pending deliveries whose next attempt is due, oldest first.
MATCH (d:Delivery) WHERE d.status = 'pending' AND d.next_at <= $now
RETURN properties(d) AS d
ORDER BY d.next_at, d.id
LIMIT $limit
