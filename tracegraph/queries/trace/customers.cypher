// Customer details (name, kind, contact) for a list of customer ids.
UNWIND $ids AS cid
MATCH (c:Customer {id: cid})
RETURN c.id AS id, c.name AS name, c.kind AS kind, c.country AS country, c.language AS language,
       c.contact_name AS contact_name, c.contact_email AS contact_email, c.contact_phone AS contact_phone,
       c.address AS address
