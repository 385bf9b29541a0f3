// Stored EPCIS events that concern any node whose key is in $ids.
MATCH (e:EpcisEvent)-[:CONCERNS]->(n)
// Events of an import run still staging ($staging: their run ids) are not stored yet and are left out.
WHERE n.id IN $ids AND NOT coalesce(e.import_id, '') IN $staging
WITH DISTINCT e
RETURN e.id AS id, e.json AS json, e.context AS context, e.event_time AS event_time
ORDER BY e.event_time, e.id
