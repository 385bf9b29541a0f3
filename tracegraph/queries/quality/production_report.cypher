// Daily production per line and product: batches started, units produced, batches released.
MATCH (b:Batch)
WHERE b.started_at >= $from AND b.started_at < $to
OPTIONAL MATCH (b)-[:PRODUCED]->(s:Serial)
WITH b, count(s) AS units
RETURN substring(b.started_at, 0, 10) AS day, coalesce(b.line, '-') AS line, coalesce(b.product_id, '-') AS product,
       count(b) AS batches, sum(units) AS units, sum(coalesce(b.qty, 0)) AS planned_qty,
       sum(CASE WHEN b.status = 'released' THEN 1 ELSE 0 END) AS released
ORDER BY day, line, product
