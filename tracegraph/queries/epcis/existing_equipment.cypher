// Which of these keys exist as Equipment: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Equipment {id: k})
RETURN n.id AS id
