// A unit by GTIN (any of the equivalent forms in $gtins) and serial number, whatever form its key
// was imported in (EPC URI, Digital Link, UDI, ERP code).
MATCH (n:Serial) WHERE n.serial_no = $serial
OPTIONAL MATCH (n)-[:OF]->(p:Product)
WITH n, p WHERE n.gtin IN $gtins OR n.product_id IN $gtins OR p.gtin IN $gtins
RETURN 'Serial' AS label, n AS node
LIMIT 5
