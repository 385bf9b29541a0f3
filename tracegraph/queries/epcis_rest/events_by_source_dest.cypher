// Ids of the events with a source or destination of the given CBV type (role = the type's short
// name: owning_party, possessing_party, location) at one of $keys.
MATCH (e:EpcisEvent)-[c:CONCERNS]->(n)
WHERE c.role = $role AND n.id IN $keys
RETURN DISTINCT e.id AS id
