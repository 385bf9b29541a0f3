// Filters of the Customer list (included by customers_page and customers_count; null parameters match all).
MATCH (n:Customer)
WHERE ($q IS NULL OR n.id CONTAINS $q)
  AND ($kind IS NULL OR n.kind = $kind)
  AND ($country IS NULL OR n.country = $country)
