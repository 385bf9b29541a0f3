// Which of these keys exist as BusinessTransaction: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:BusinessTransaction {id: k})
RETURN n.id AS id
