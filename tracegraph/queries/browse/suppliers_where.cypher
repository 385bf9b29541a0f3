// Filters of the Supplier list (included by suppliers_page and suppliers_count; null parameters match all;
// $q: id contains, or the name contains it, case-insensitively).
MATCH (n:Supplier)
WHERE ($q IS NULL OR n.id CONTAINS $q OR toLower(coalesce(n.name, '')) CONTAINS toLower($q))
  AND ($status IS NULL OR n.status = $status)
  AND ($country IS NULL OR n.country = $country)
