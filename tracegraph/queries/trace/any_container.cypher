// Is there any container at all? (A plant of loose units skips the containment step.)
MATCH (k:Container)
RETURN k.id AS id
LIMIT 1
