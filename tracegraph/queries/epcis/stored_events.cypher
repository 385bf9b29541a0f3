// The stored JSON of the EPCIS events with these eventIDs (event identity on re-import).
UNWIND $ids AS k
// Events of an import run still staging ($staging: their run ids) are not stored yet and are left out.
MATCH (e:EpcisEvent {id: k}) WHERE NOT coalesce(e.import_id, '') IN $staging
RETURN e.id AS id, e.json AS json
