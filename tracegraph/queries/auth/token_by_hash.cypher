// A token (by the SHA-256 of its secret) and the user it belongs to.
MATCH (t:Token {token_hash: $token_hash})
MATCH (u:User {id: t.user_id})
RETURN properties(t) AS t, properties(u) AS u
