// Which of these keys exist as Product: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Product {id: k})
RETURN n.id AS id
