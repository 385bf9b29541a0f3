// Trace index build: every customer with the details an impact answer shows.
MATCH (c:Customer)
RETURN c.id AS id, c.name AS name, c.kind AS kind, c.country AS country, c.language AS language,
       c.contact_name AS contact_name, c.contact_email AS contact_email, c.contact_phone AS contact_phone,
       c.address AS address
