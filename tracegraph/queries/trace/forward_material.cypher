// Shared tail of the forward traces from lots or batches (included, never run alone); expects
// `seed` rows. One traversal downstream over the material edges only (lots and batches; shared
// inputs and rework loops visited once thanks to DISTINCT), then each reached node with its
// outgoing flow / shipment / return edges as compact lists ([type, target id, qty, date,
// delivered_at, customer_id, from_id, disposition]). Units come from trace.units.
MATCH (seed)-[:CONSUMED_IN|SPLIT_INTO|MERGED_INTO*0..]->(n)
WITH DISTINCT n
OPTIONAL MATCH (n)-[r:CONSUMED_IN|SPLIT_INTO|MERGED_INTO|SHIPPED_IN|RETURNED_IN]->(m)
WITH n, collect(CASE WHEN r IS NULL THEN null
                     ELSE [type(r), m.id, r.qty, m.date, m.delivered_at, m.customer_id, m.from_id, m.disposition]
                END) AS out
RETURN labels(n)[0] AS l, n.id AS id, n.status AS st, n.product_id AS pr, n.qty AS q, n.uom AS u,
       n.started_at AS sa, n.kind AS k, out
