// Trace index build: every material lot key.
MATCH (l:MaterialLot)
RETURN l.id AS id
