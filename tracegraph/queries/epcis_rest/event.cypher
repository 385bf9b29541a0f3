// One stored EPCIS event by its eventID (GET /events/{eventID}).
MATCH (e:EpcisEvent {id: $id})
RETURN e.id AS id, e.json AS json, e.context AS context, e.event_time AS event_time
