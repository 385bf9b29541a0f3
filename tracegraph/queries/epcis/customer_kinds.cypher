// Kinds of the customers an EPCIS document delivers to (hospital vs distributor decides whether
// a received unit is at an end user).
MATCH (c:Customer) WHERE c.id IN $ids
RETURN c.id AS id, c.kind AS kind
