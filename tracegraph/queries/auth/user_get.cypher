// One user with every property (password hash included: engine use only).
MATCH (u:User {id: $id})
RETURN properties(u) AS u
