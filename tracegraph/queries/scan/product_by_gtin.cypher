// A product (device model) by any equivalent form of its GTIN.
MATCH (n:Product) WHERE n.id IN $gtins OR n.gtin IN $gtins
RETURN 'Product' AS label, n AS node
LIMIT 5
