// Filters of the Shipment list (included by shipments_page and shipments_count; null parameters match all).
MATCH (n:Shipment)
WHERE ($q IS NULL OR n.id CONTAINS $q)
  AND ($status IS NULL OR n.status = $status)
  AND ($customer IS NULL OR n.customer_id = $customer)
  AND ($from IS NULL OR n.date >= $from)
  AND ($to IS NULL OR n.date <= $to)
