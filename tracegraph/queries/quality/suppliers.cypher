// The supplier list (approved supplier list view).
MATCH (s:Supplier)
WHERE coalesce(s.retired, false) = false
RETURN properties(s) AS props
ORDER BY s.id
