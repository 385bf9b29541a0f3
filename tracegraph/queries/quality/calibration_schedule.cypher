// Every equipment with its latest (not voided) calibration and the due date of the next one.
MATCH (e:Equipment)
WHERE coalesce(e.retired, false) = false
OPTIONAL MATCH (c:Calibration)-[:CALIBRATES]->(e)
WHERE coalesce(c.status, 'recorded') <> 'voided'
  AND coalesce(c.kind, 'calibration') = 'calibration'
WITH e, c ORDER BY c.date DESC
WITH e, collect(c) AS cals
WITH e, cals[0] AS last
RETURN e.id AS equipment, e.name AS name, last.date AS last_date, last.result AS last_result,
       CASE WHEN last IS NULL THEN e.calibration_due_at ELSE coalesce(last.due_at, e.calibration_due_at) END AS due_at
ORDER BY equipment
