// Failed-login throttles by key (`account:<user id>`, `address:<client address>`).
UNWIND $ids AS k
MATCH (t:LoginThrottle {id: k})
RETURN properties(t) AS t
