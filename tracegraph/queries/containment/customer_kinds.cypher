// Kinds of the customers $ids (distributor vs end user decides a delivered unit's status).
UNWIND $ids AS i
MATCH (c:Customer {id: i})
RETURN c.id AS id, c.kind AS kind
