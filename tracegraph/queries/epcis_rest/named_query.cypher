// One live named query.
MATCH (q:NamedQuery {id: $id}) WHERE coalesce(q.retired, false) = false
RETURN properties(q) AS q
