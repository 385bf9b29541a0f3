// Units, lots and containers whose key is one of $ids (candidate keys of one GS1 identity in its
// EPC URI and Digital Link forms); uses the id index of each label.
MATCH (n:Serial) WHERE n.id IN $ids RETURN 'Serial' AS label, n AS node
UNION ALL MATCH (n:Batch) WHERE n.id IN $ids RETURN 'Batch' AS label, n AS node
UNION ALL MATCH (n:MaterialLot) WHERE n.id IN $ids RETURN 'MaterialLot' AS label, n AS node
UNION ALL MATCH (n:Container) WHERE n.id IN $ids RETURN 'Container' AS label, n AS node
