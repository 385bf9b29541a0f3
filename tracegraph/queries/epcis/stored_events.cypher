// The stored JSON of the EPCIS events with these eventIDs (event identity on re-import).
UNWIND $ids AS k
MATCH (e:EpcisEvent {id: k})
RETURN e.id AS id, e.json AS json
