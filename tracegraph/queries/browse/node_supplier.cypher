// Supplier nodes by id, for the GraphQL DataLoaders (one round trip for a whole page).
UNWIND $ids AS k
MATCH (n:Supplier {id: k})
RETURN k AS key, n
