// Which of these keys exist as Customer: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Customer {id: k})
RETURN n.id AS id
