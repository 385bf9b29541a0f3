// Which of these keys exist as Container: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Container {id: k})
RETURN n.id AS id
