// The stored packing intervals of these units, lots and containers (as children), so
// loaders/epcis_late.py rewrites only the intervals a late aggregation changes (and removes the ones
// no event makes any more; `import_id` is set only on links the ERP import staged).
MATCH (c)-[p:PACKED_IN]->(k:Container)
WHERE c.id IN $ids
RETURN c.id AS f, k.id AS t, p.from AS from, p.to AS to, p.qty AS qty, p.import_id AS import_id
