// Shared tail of every forward trace (included, never run alone). Expects `seed` rows.
// One bounded-by-the-data traversal downstream over the material-flow edges, deduplicated
// (shared inputs and rework loops are visited once), then each reached node with its
// outgoing flow, shipment and return edges in one compact list: Python walks this small
// subgraph for depth, edge-type filters and provenance paths without another round trip.
MATCH (seed)-[:CONSUMED_IN|SPLIT_INTO|MERGED_INTO|PRODUCED|COMPONENT_OF*0..]->(n)
WITH DISTINCT n
OPTIONAL MATCH (n)-[r:CONSUMED_IN|SPLIT_INTO|MERGED_INTO|PRODUCED|COMPONENT_OF|SHIPPED_IN|RETURNED_IN]->(m)
WITH n, collect(CASE WHEN r IS NULL THEN null
                     ELSE [type(r), m.id, r.qty, m.date, m.delivered_at, m.customer_id, m.from_id, m.disposition, r.at]
                END) AS out
RETURN labels(n)[0] AS l, n.id AS id, n.status AS st, n.customer_id AS cu, n.warehouse AS wh,
       n.product_id AS pr, n.batch_id AS bt, n.qty AS q, n.uom AS u, n.started_at AS sa, n.kind AS k, out
