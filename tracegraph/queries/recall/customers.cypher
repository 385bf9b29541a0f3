// The customers of a recall with their notification / reconciliation state (AFFECTS edge).
MATCH (r:Recall {id: $id})-[a:AFFECTS]->(c:Customer)
RETURN c.id AS id, c.name AS name, c.kind AS kind, c.country AS country, c.language AS customer_language,
       c.contact_name AS contact_name, c.contact_email AS contact_email, c.contact_phone AS contact_phone,
       c.address AS address, properties(a) AS state
ORDER BY c.id
