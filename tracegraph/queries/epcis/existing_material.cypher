// Which of these keys exist as Material: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Material {id: k})
RETURN n.id AS id
