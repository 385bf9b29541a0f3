// Fallback identification (when the impact engine is absent): batches that consumed the lots,
// following splits and merges.
UNWIND $lots AS lid
MATCH (l:MaterialLot {id: lid})-[:SPLIT_INTO|MERGED_INTO*0..10]->(m:MaterialLot)-[:CONSUMED_IN]->(b:Batch)
RETURN DISTINCT b.id AS id
