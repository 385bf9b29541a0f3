// Filters of the Serial list (included by serials_page and serials_count; null parameters match all).
MATCH (n:Serial)
WHERE ($q IS NULL OR n.id CONTAINS $q)
  AND ($status IS NULL OR n.status = $status)
  AND ($batch IS NULL OR n.batch_id = $batch)
  AND ($product IS NULL OR n.product_id = $product)
  AND ($customer IS NULL OR n.customer_id = $customer)
