// Which kind of record a business key names (a serial also by its UDI string).
OPTIONAL MATCH (s:Serial {id: $key})
OPTIONAL MATCH (b:Batch {id: $key})
OPTIONAL MATCH (l:MaterialLot {id: $key})
RETURN s.id AS serial, b.id AS batch, l.id AS lot
