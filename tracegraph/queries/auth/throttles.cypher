// Every failed-login throttle that still counts failures or holds a delay window.
MATCH (t:LoginThrottle)
WHERE coalesce(t.failures, 0) > 0 OR coalesce(t.until, '') > $now
RETURN properties(t) AS t
ORDER BY t.id
