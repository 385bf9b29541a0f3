// Short backward-trace summary: how many material lots and batches (and component units) a
// node came from, following material-flow edges against their direction.
MATCH (n {id: $id}) WHERE $label IN labels(n)
OPTIONAL MATCH (n)<-[:PRODUCED|CONSUMED_IN|COMPONENT_OF|SPLIT_INTO|MERGED_INTO*1..30]-(u)
WITH DISTINCT u
RETURN
  sum(CASE WHEN u IS NOT NULL AND 'MaterialLot' IN labels(u) THEN 1 ELSE 0 END) AS material_lots,
  sum(CASE WHEN u IS NOT NULL AND 'Batch' IN labels(u) THEN 1 ELSE 0 END) AS batches,
  sum(CASE WHEN u IS NOT NULL AND 'Serial' IN labels(u) THEN 1 ELSE 0 END) AS components
