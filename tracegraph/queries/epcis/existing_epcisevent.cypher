// Which of these keys exist as EpcisEvent: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:EpcisEvent {id: k})
RETURN n.id AS id
