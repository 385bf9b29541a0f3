// Short backward-trace summary: how many material lots and batches (and component units) a
// serial, batch or lot came from, following material-flow edges against their direction.
// $label picks which of the three indexed look-ups names the start node.
OPTIONAL MATCH (s:Serial {id: $id})
OPTIONAL MATCH (b:Batch {id: $id})
OPTIONAL MATCH (l:MaterialLot {id: $id})
WITH CASE $label WHEN 'Serial' THEN s WHEN 'Batch' THEN b ELSE l END AS n
WHERE n IS NOT NULL
OPTIONAL MATCH (n)<-[:PRODUCED|CONSUMED_IN|COMPONENT_OF|SPLIT_INTO|MERGED_INTO*1..30]-(u)
WITH DISTINCT u
RETURN
  sum(CASE WHEN u IS NOT NULL AND 'MaterialLot' IN labels(u) THEN 1 ELSE 0 END) AS material_lots,
  sum(CASE WHEN u IS NOT NULL AND 'Batch' IN labels(u) THEN 1 ELSE 0 END) AS batches,
  sum(CASE WHEN u IS NOT NULL AND 'Serial' IN labels(u) THEN 1 ELSE 0 END) AS components
