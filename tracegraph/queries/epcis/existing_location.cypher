// Which of these keys exist as Location: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Location {id: k})
RETURN n.id AS id
