// Batches downstream of the given batches (sub-assemblies consumed in finished batches, rework).
UNWIND $batches AS bid
MATCH (:Batch {id: bid})-[:CONSUMED_IN*1..10]->(x:Batch)
RETURN DISTINCT x.id AS id
