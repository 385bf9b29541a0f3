// Per supplier: lots received, incoming inspection results, deviations and complaints traced to its lots.
MATCH (s:Supplier)
WHERE $supplier IS NULL OR s.id = $supplier
OPTIONAL MATCH (s)-[:SUPPLIED]->(l:MaterialLot)
WITH s, collect(DISTINCT l) AS lots
UNWIND (CASE WHEN size(lots) = 0 THEN [null] ELSE lots END) AS l
OPTIONAL MATCH (i:Inspection)-[:INSPECTED]->(l)
WITH s, lots, l, collect(i.result) AS results
OPTIONAL MATCH (d:Deviation)-[:ABOUT]->(l)
WITH s, lots, l, results, count(DISTINCT d) AS deviations
OPTIONAL MATCH (l)-[:CONSUMED_IN]->(:Batch)-[:PRODUCED]->(:Serial)<-[:ABOUT]-(c:Complaint)
WITH s, lots, l, results, deviations, count(DISTINCT c) AS complaints
RETURN s.id AS supplier, s.name AS name, s.status AS status, s.qualified_until AS qualified_until,
       size(lots) AS lots,
       sum(size([r IN results WHERE r = 'accept'])) AS accepted,
       sum(size([r IN results WHERE r = 'conditional'])) AS conditional,
       sum(size([r IN results WHERE r = 'reject'])) AS rejected,
       sum(deviations) AS deviations, sum(complaints) AS complaints
ORDER BY supplier
