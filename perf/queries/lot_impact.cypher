// Forward impact of one material lot: split/merged lots -> batches (and the batches their
// sub-assemblies went into) -> serials (and the assemblies they went into) -> customers.
// WITH DISTINCT after every stage keeps the frontier a set instead of a set of paths (not after
// PRODUCED: distinct batches produce distinct serials, and that DISTINCT cost 35%).
// Customers are the current holders of units in transit / at a distributor / at an end user.
MATCH (l:MaterialLot {id: $id})-[:SPLIT_INTO|MERGED_INTO*0..]->(x)
WITH DISTINCT x
MATCH (x)-[:CONSUMED_IN]->(b0)
WITH DISTINCT b0
MATCH (b0)-[:CONSUMED_IN*0..]->(b)
WITH DISTINCT b
MATCH (b)-[:PRODUCED]->(s0)
MATCH (s0)-[:COMPONENT_OF*0..]->(s)
WITH DISTINCT s
RETURN collect(s.id) AS serials,
       collect(DISTINCT CASE WHEN s.status IN ['in_transit', 'at_distributor', 'at_end_user'] THEN s.customer_id END) AS customers
