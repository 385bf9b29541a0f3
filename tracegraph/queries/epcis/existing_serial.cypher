// Which of these keys exist as Serial: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Serial {id: k})
RETURN n.id AS id
