// Shared tail of the forward traces from lots or batches (included, never run alone); expects
// `seed` rows. One traversal downstream over the material edges only (lots and batches; shared
// inputs and rework loops visited once thanks to DISTINCT); then each reached node with its
// outgoing flow / shipment / return edges as compact lists ([type, target id, qty, date,
// delivered_at, customer_id, from_id, disposition]) and, for batches, the serials they produced
// in one hop as parallel lists (ids, statuses, current customers, [id, warehouse] pairs): few
// values per unit keep 30k-unit answers fast to transfer and parse.
MATCH (seed)-[:CONSUMED_IN|SPLIT_INTO|MERGED_INTO*0..]->(n)
WITH DISTINCT n
OPTIONAL MATCH (n)-[r:CONSUMED_IN|SPLIT_INTO|MERGED_INTO|SHIPPED_IN|RETURNED_IN]->(m)
WITH n, collect(CASE WHEN r IS NULL THEN null
                     ELSE [type(r), m.id, r.qty, m.date, m.delivered_at, m.customer_id, m.from_id, m.disposition]
                END) AS out
OPTIONAL MATCH (n)-[:PRODUCED]->(s)
RETURN labels(n)[0] AS l, n.id AS id, n.status AS st, n.product_id AS pr, n.qty AS q, n.uom AS u,
       n.started_at AS sa, n.kind AS k, out,
       collect(s.id) AS ids, collect(coalesce(s.status, '')) AS sts, collect(coalesce(s.customer_id, '')) AS cus,
       collect(CASE WHEN s.warehouse IS NULL THEN null ELSE [s.id, s.warehouse] END) AS whs
