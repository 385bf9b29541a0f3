// The lots a supplier delivered, optionally within a receipt date range on SUPPLIED.date
// (ids only: a supplier-wide impact starts from hundreds of lots, and every value costs).
MATCH (s:Supplier {id: $id})
OPTIONAL MATCH (s)-[r:SUPPLIED]->(l:MaterialLot)
WHERE ($from IS NULL OR r.date >= $from) AND ($to IS NULL OR r.date <= $to)
RETURN s.id AS supplier, collect(l.id) AS lots
