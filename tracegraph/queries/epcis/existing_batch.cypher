// Which of these keys exist as Batch: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Batch {id: k})
RETURN n.id AS id
