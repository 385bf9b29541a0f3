// Shipment nodes by id, for the GraphQL DataLoaders (one round trip for a whole page).
UNWIND $ids AS k
MATCH (n:Shipment {id: k})
RETURN k AS key, n
