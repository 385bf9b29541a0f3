// A serial by its UDI string (fallback when the key is not a serial id).
MATCH (s:Serial) WHERE s.udi = $udi
RETURN s.id AS serial LIMIT 2
