// Which of these keys exist as Return: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Return {id: k})
RETURN n.id AS id
