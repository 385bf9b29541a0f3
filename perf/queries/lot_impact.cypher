// Forward impact of one material lot: split/merged lots -> batches (and the batches their
// sub-assemblies went into) -> serials (and the assemblies they went into) -> customers.
// WITH DISTINCT after every stage keeps the frontier a set instead of a set of paths.
MATCH (l:MaterialLot {id: $id})-[:SPLIT_INTO|MERGED_INTO*0..]->(x)
WITH DISTINCT x
MATCH (x)-[:CONSUMED_IN]->(b0)
WITH DISTINCT b0
MATCH (b0)-[:CONSUMED_IN*0..]->(b)
WITH DISTINCT b
MATCH (b)-[:PRODUCED]->(s0)
WITH DISTINCT s0
MATCH (s0)-[:COMPONENT_OF*0..]->(s)
RETURN collect(DISTINCT s.id) AS serials, collect(DISTINCT s.customer_id) AS customers
