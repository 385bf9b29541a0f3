// Which of these keys exist as MaterialLot: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:MaterialLot {id: k})
RETURN n.id AS id
