// Filters of the Customer list (included by customers_page and customers_count; null parameters match all;
// $q: id contains, or the name contains it, case-insensitively).
MATCH (n:Customer)
WHERE ($q IS NULL OR n.id CONTAINS $q OR toLower(coalesce(n.name, '')) CONTAINS toLower($q))
  AND ($kind IS NULL OR n.kind = $kind)
  AND ($country IS NULL OR n.country = $country)
