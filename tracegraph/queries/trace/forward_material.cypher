// Shared tail of the forward traces from lots or batches (included, never run alone); expects
// `seed` rows. One traversal downstream over the material edges only (lots and batches; shared
// inputs and rework loops visited once thanks to DISTINCT). Then, per reached node:
// - `us`: for batches, the serials they produced in one hop, ONE string per unit:
//   id $sep status $sep customer_id $sep warehouse $sep container_id (missing values as ''; the
//   container holding the unit now, as the containment derivation wrote it: engine/trace/containers.py
//   reads it instead of the unit's PACKED_IN links, ~2 ms where the links took ~15). Measured at 100k
//   serials (~30k units): one string per unit instead of four parallel lists cut the reply
//   (transfer + decoding) by 30-40%; the serials are collected BEFORE the edges so the big
//   aggregation groups by the node alone, not by an edge list.
// - `out`: the outgoing flow edges as [type, target id, qty] and the shipment / return edges
//   as [type, target id, qty, date, delivered_at, customer_id, from_id, disposition] (flow
//   edges have none of the shipment fields: not sending eight nulls per edge halves the values).
// - `ns`: how many serials the batch produced.
MATCH (seed)-[:CONSUMED_IN|SPLIT_INTO|MERGED_INTO*0..]->(n)
WITH DISTINCT n
OPTIONAL MATCH (n)-[:PRODUCED]->(s)
WITH n, collect(s.id + $sep + coalesce(s.status, '') + $sep + coalesce(s.customer_id, '') + $sep
                + coalesce(s.warehouse, '') + $sep + coalesce(s.container_id, '')) AS us
OPTIONAL MATCH (n)-[r:CONSUMED_IN|SPLIT_INTO|MERGED_INTO|SHIPPED_IN|RETURNED_IN]->(m)
RETURN labels(n)[0] AS l, n.id AS id, n.status AS st, n.product_id AS pr, n.qty AS q, n.uom AS u,
       n.started_at AS sa, n.kind AS k, us,
       collect(CASE WHEN r IS NULL THEN null
                    WHEN type(r) IN ['SHIPPED_IN', 'RETURNED_IN']
                    THEN [type(r), m.id, r.qty, m.date, m.delivered_at, m.customer_id, m.from_id, m.disposition]
                    ELSE [type(r), m.id, r.qty] END) AS out
