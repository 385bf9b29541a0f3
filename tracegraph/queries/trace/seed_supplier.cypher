// The lots a supplier delivered, optionally within a receipt date range on SUPPLIED.date.
MATCH (s:Supplier {id: $id})
OPTIONAL MATCH (s)-[r:SUPPLIED]->(l:MaterialLot)
WHERE ($from IS NULL OR r.date >= $from) AND ($to IS NULL OR r.date <= $to)
RETURN s.id AS supplier, s.name AS name, collect(CASE WHEN l IS NULL THEN null ELSE [l.id, r.date, r.qty, r.po] END) AS lots
