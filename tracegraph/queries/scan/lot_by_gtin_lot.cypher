// A production batch or material lot whose key IS the lot number (ERP imports), made of the
// product / material with this GTIN ($gtins: equivalent forms).
MATCH (n:Batch {id: $lot})
OPTIONAL MATCH (n)-[:OF]->(p:Product)
WITH n, p WHERE n.product_id IN $gtins OR p.gtin IN $gtins OR p.id IN $gtins
RETURN 'Batch' AS label, n AS node
UNION ALL
MATCH (n:MaterialLot {id: $lot})
OPTIONAL MATCH (n)-[:OF]->(m:Material)
WITH n, m WHERE n.material_id IN $gtins OR m.id IN $gtins
RETURN 'MaterialLot' AS label, n AS node
