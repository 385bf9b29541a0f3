// Forward impact of everything one supplier delivered (same stages as lot_impact).
MATCH (:Supplier {id: $id})-[:SUPPLIED]->(l)
MATCH (l)-[:SPLIT_INTO|MERGED_INTO*0..]->(x)
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
