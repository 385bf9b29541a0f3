// Every user, by id.
MATCH (u:User)
RETURN properties(u) AS u
ORDER BY u.id
