// Ids of the events that name one of the objects in $keys (exact business keys) or whose key starts
// with one of $prefixes (EPC patterns such as urn:epc:idpat:sgtin:0614141.107346.*), in one of the
// CONCERNS roles in $roles (epc, child, parent, input, output, quantity, ...).
MATCH (e:EpcisEvent)-[c:CONCERNS]->(n)
WHERE c.role IN $roles
  AND (n.id IN $keys OR any(p IN $prefixes WHERE n.id STARTS WITH p))
RETURN DISTINCT e.id AS id
