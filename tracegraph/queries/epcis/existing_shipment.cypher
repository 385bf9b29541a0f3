// Which of these keys exist as Shipment: new vs already-there nodes of an EPCIS import.
UNWIND $keys AS k
MATCH (n:Shipment {id: k})
RETURN n.id AS id
