// Stored EPCIS events that concern any node whose key is in $ids.
MATCH (e:EpcisEvent)-[:CONCERNS]->(n)
WHERE n.id IN $ids
WITH DISTINCT e
RETURN e.id AS id, e.json AS json, e.context AS context, e.event_time AS event_time
ORDER BY e.event_time, e.id
