// Ids of the events that carry one of the business transactions $keys (any type, or of $bt_type).
MATCH (e:EpcisEvent)-[c:CONCERNS {role: 'bizTransaction'}]->(b:BusinessTransaction)
WHERE b.id IN $keys AND ($bt_type IS NULL OR b.type = $bt_type)
RETURN DISTINCT e.id AS id
