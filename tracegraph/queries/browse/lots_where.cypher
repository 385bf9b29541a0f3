// Filters of the MaterialLot list (included by lots_page and lots_count; null parameters match all).
MATCH (n:MaterialLot)
WHERE ($q IS NULL OR n.id CONTAINS $q)
  AND ($status IS NULL OR n.status = $status)
  AND ($supplier IS NULL OR n.supplier_id = $supplier)
  AND ($material IS NULL OR n.material_id = $material)
