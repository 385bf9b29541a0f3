// Every machine use of every batch (optionally on one equipment) with the last calibration
// before the use started: the engine judges whether it was overdue or failed.
MATCH (b:Batch)-[u:PROCESSED_ON]->(e:Equipment)
WHERE $equipment IS NULL OR e.id = $equipment
OPTIONAL MATCH (c:Calibration)-[:CALIBRATES]->(e)
WHERE c.date <= coalesce(u.from, b.started_at) AND coalesce(c.status, 'recorded') <> 'voided'
  AND coalesce(c.kind, 'calibration') = 'calibration'
WITH b, u, e, c ORDER BY c.date DESC
WITH b, u, e, collect(c) AS cals
WITH b, u, e, cals[0] AS cal
RETURN b.id AS batch, b.status AS batch_status, e.id AS equipment, u.from AS from, u.to AS to,
       cal.id AS cal_id, cal.date AS cal_date, cal.result AS cal_result,
       coalesce(cal.due_at, e.calibration_due_at) AS cal_due
ORDER BY batch, equipment, from
