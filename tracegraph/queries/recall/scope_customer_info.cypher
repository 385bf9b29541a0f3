UNWIND $ids AS cid
MATCH (c:Customer {id: cid})
RETURN c.id AS id, c.name AS name, c.language AS language, c.contact_email AS contact_email
