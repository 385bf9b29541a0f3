// Equipment used by each batch with its usage window, and the latest calibration dated on or
// before the start of the usage (its due date decides whether the use was in calibration).
UNWIND $ids AS bid
MATCH (b:Batch {id: bid})-[p:PROCESSED_ON]->(e:Equipment)
OPTIONAL MATCH (c:Calibration)-[:CALIBRATES]->(e)
WHERE c.date <= p.from
WITH b, p, e, max(c.date) AS cal_date
OPTIONAL MATCH (c2:Calibration)-[:CALIBRATES]->(e)
WHERE c2.date = cal_date
WITH b, p, e, collect([c2.id, c2.date, c2.due_at, c2.result]) AS cals
RETURN b.id AS batch, e.id AS equipment, e.name AS name, p.from AS used_from, p.to AS used_to,
       p.params AS params, p.operator AS operator, cals[0] AS cal
ORDER BY batch, used_from, equipment
