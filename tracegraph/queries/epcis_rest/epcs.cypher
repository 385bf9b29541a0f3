// Objects named by stored events as EPCs (the /epcs resource), with the number of events.
MATCH (e:EpcisEvent)-[c:CONCERNS]->(n)
WHERE c.role IN ['epc', 'child', 'parent', 'input', 'output']
RETURN n.id AS value, count(DISTINCT e) AS events
ORDER BY value
SKIP $skip LIMIT $limit
