// Every stored EPCIS event (original JSON and its document's extension context), oldest first.
MATCH (e:EpcisEvent)
RETURN e.id AS id, e.json AS json, e.context AS context, e.event_time AS event_time
ORDER BY e.event_time, e.id
