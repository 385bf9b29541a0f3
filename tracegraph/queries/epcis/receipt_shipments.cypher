// Order-independent receipts (loaders/epcis_receipts.py): the shipments carrying any of the units, lots
// or containers $ids that only receiving events speak of (a receipt captured before its shipment made
// them), with the JSON of those receipts (not of a run still staging: $staging, its ids). Id indexes;
// one branch per label that is shipped.
MATCH (x:Serial)-[:SHIPPED_IN]->(sh:Shipment) WHERE x.id IN $ids
WITH DISTINCT sh
OPTIONAL MATCH (e:EpcisEvent)-[:CONCERNS {role: 'shipment'}]->(sh) WHERE NOT coalesce(e.import_id, '') IN $staging
WITH sh, collect(DISTINCT e.biz_step) AS steps,
     collect(DISTINCT CASE WHEN e.biz_step = 'receiving' THEN e.json END) AS receipts
WHERE NOT 'shipping' IN steps AND size(receipts) > 0
RETURN sh.id AS id, receipts
UNION
MATCH (x:Batch)-[:SHIPPED_IN]->(sh:Shipment) WHERE x.id IN $ids
WITH DISTINCT sh
OPTIONAL MATCH (e:EpcisEvent)-[:CONCERNS {role: 'shipment'}]->(sh) WHERE NOT coalesce(e.import_id, '') IN $staging
WITH sh, collect(DISTINCT e.biz_step) AS steps,
     collect(DISTINCT CASE WHEN e.biz_step = 'receiving' THEN e.json END) AS receipts
WHERE NOT 'shipping' IN steps AND size(receipts) > 0
RETURN sh.id AS id, receipts
UNION
MATCH (x:Container)-[:SHIPPED_IN]->(sh:Shipment) WHERE x.id IN $ids
WITH DISTINCT sh
OPTIONAL MATCH (e:EpcisEvent)-[:CONCERNS {role: 'shipment'}]->(sh) WHERE NOT coalesce(e.import_id, '') IN $staging
WITH sh, collect(DISTINCT e.biz_step) AS steps,
     collect(DISTINCT CASE WHEN e.biz_step = 'receiving' THEN e.json END) AS receipts
WHERE NOT 'shipping' IN steps AND size(receipts) > 0
RETURN sh.id AS id, receipts
