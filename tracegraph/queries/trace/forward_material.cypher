// Shared tail of the forward traces from lots or batches (included, never run alone); expects
// `seed` rows. One traversal downstream over the material edges only (lots and batches; shared
// inputs and rework loops visited once thanks to DISTINCT), then each reached node with its
// outgoing flow / shipment / return edges packed as one string per edge ($sep-separated:
// type, target id, qty, date, delivered_at, customer_id, from_id, disposition, at) and the
// number of serials it produced. Units come from trace.units in one more statement.
MATCH (seed)-[:CONSUMED_IN|SPLIT_INTO|MERGED_INTO*0..]->(n)
WITH DISTINCT n
OPTIONAL MATCH (n)-[r:CONSUMED_IN|SPLIT_INTO|MERGED_INTO|SHIPPED_IN|RETURNED_IN]->(m)
WITH n, collect(CASE WHEN r IS NULL THEN null ELSE
    type(r) + $sep + m.id + $sep + coalesce(toString(r.qty), '') + $sep + coalesce(m.date, '') + $sep
    + coalesce(m.delivered_at, '') + $sep + coalesce(m.customer_id, '') + $sep + coalesce(m.from_id, '') + $sep
    + coalesce(m.disposition, '') + $sep + coalesce(r.at, '') END) AS out
RETURN labels(n)[0] AS l, n.id AS id, n.status AS st, n.product_id AS pr, n.qty AS q, n.uom AS u,
       n.started_at AS sa, n.kind AS k, size([(n)-[:PRODUCED]->() | 1]) AS ns, out
