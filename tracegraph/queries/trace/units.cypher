// The serials the given batches produced, one packed string each ($sep-separated: id, batch,
// status, customer_id, warehouse, product_id): one value per unit keeps 30k-unit answers fast.
UNWIND $bids AS bid
MATCH (:Batch {id: bid})-[:PRODUCED]->(s)
RETURN collect(s.id + $sep + bid + $sep + coalesce(s.status, '') + $sep + coalesce(s.customer_id, '') + $sep
               + coalesce(s.warehouse, '') + $sep + coalesce(s.product_id, '')) AS units
