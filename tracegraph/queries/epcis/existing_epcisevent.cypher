// Which of these keys exist as EpcisEvent: new vs already-there nodes of an EPCIS import,
// with their properties (an existing node the events state nothing new about gets no step).
UNWIND $keys AS k
MATCH (n:EpcisEvent {id: k})
RETURN n.id AS id, properties(n) AS p
