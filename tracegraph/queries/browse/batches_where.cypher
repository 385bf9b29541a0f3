// Filters of the Batch list (included by batches_page and batches_count; null parameters match all).
MATCH (n:Batch)
WHERE ($q IS NULL OR n.id CONTAINS $q)
  AND ($status IS NULL OR n.status = $status)
  AND ($product IS NULL OR n.product_id = $product)
  AND ($site IS NULL OR n.site = $site)
  AND ($kind IS NULL OR n.kind = $kind)
  AND ($from IS NULL OR n.started_at >= $from)
  AND ($to IS NULL OR n.started_at <= $to)
