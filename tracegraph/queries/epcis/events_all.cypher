// Every stored EPCIS event (original JSON and its document's extension context), oldest first.
// Events of an import run still staging ($staging: their run ids) are not stored yet and are left out.
MATCH (e:EpcisEvent) WHERE NOT coalesce(e.import_id, '') IN $staging
RETURN e.id AS id, e.json AS json, e.context AS context, e.event_time AS event_time
ORDER BY e.event_time, e.id
