// One stored EPCIS event by its eventID (GET /events/{eventID}).
// Events of an import run still staging ($staging: their run ids) are not stored yet and are left out.
MATCH (e:EpcisEvent {id: $id}) WHERE NOT coalesce(e.import_id, '') IN $staging
RETURN e.id AS id, e.json AS json, e.context AS context, e.event_time AS event_time
