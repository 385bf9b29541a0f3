// The serials the given batches produced, as parallel lists per batch (ids, statuses, current
// customers) plus [id, warehouse] pairs for units that have a warehouse: few values per unit
// keep 30k-unit answers fast to transfer and parse.
UNWIND $bids AS bid
MATCH (:Batch {id: bid})-[:PRODUCED]->(s)
RETURN bid, collect(s.id) AS ids, collect(coalesce(s.status, '')) AS sts, collect(coalesce(s.customer_id, '')) AS cus,
       collect(CASE WHEN s.warehouse IS NULL THEN null ELSE [s.id, s.warehouse] END) AS whs
