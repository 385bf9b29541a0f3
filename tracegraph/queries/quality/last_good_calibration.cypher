// An equipment's calibrations, newest first: the out-of-tolerance one and the last good one before it.
MATCH (c:Calibration)-[:CALIBRATES]->(e:Equipment {id: $equipment})
WHERE coalesce(c.status, 'recorded') <> 'voided' AND coalesce(c.kind, 'calibration') = 'calibration'
RETURN c.id AS id, c.date AS date, c.result AS result, c.due_at AS due_at
ORDER BY c.date DESC
