// Filters of the Product list (included by products_page and products_count; null parameters match all;
// $q: id contains, or the name contains it, case-insensitively).
MATCH (n:Product)
WHERE ($q IS NULL OR n.id CONTAINS $q OR toLower(coalesce(n.name, '')) CONTAINS toLower($q))
  AND ($device_class IS NULL OR n.device_class = $device_class)
