// Any traceable node whose business key is exactly $id (the key as imported: ERP code, UDI,
// EPC URI, Digital Link). One labelled branch per label so each uses its id index.
MATCH (n:Serial {id: $id}) RETURN 'Serial' AS label, n AS node
UNION ALL MATCH (n:Batch {id: $id}) RETURN 'Batch' AS label, n AS node
UNION ALL MATCH (n:MaterialLot {id: $id}) RETURN 'MaterialLot' AS label, n AS node
UNION ALL MATCH (n:Container {id: $id}) RETURN 'Container' AS label, n AS node
UNION ALL MATCH (n:Product {id: $id}) RETURN 'Product' AS label, n AS node
UNION ALL MATCH (n:Material {id: $id}) RETURN 'Material' AS label, n AS node
UNION ALL MATCH (n:Shipment {id: $id}) RETURN 'Shipment' AS label, n AS node
UNION ALL MATCH (n:Equipment {id: $id}) RETURN 'Equipment' AS label, n AS node
UNION ALL MATCH (n:Customer {id: $id}) RETURN 'Customer' AS label, n AS node
UNION ALL MATCH (n:Location {id: $id}) RETURN 'Location' AS label, n AS node
