// Objects named by stored events as EPCs (the /epcs resource), with the number of events.
MATCH (e:EpcisEvent)-[c:CONCERNS]->(n)
// Events of an import run still staging ($staging: their run ids) are not stored yet and are left out.
WHERE c.role IN ['epc', 'child', 'parent', 'input', 'output'] AND NOT coalesce(e.import_id, '') IN $staging
RETURN n.id AS value, count(DISTINCT e) AS events
ORDER BY value
SKIP $skip LIMIT $limit
