// EPCIS state by event time: the properties, among them `state_at` (JSON: property -> eventTime
// of the event that set it), of the units, shipments, containers and batches an import is about to write, so
// loaders/epcis_state.py can leave out what an event that happened earlier says (null: the node
// exists but no EPCIS event has set its state). Id indexes.
MATCH (n:Serial) WHERE n.id IN $serials
RETURN 'Serial' AS label, n.id AS id, properties(n) AS props
UNION ALL MATCH (n:Shipment) WHERE n.id IN $shipments
RETURN 'Shipment' AS label, n.id AS id, properties(n) AS props
UNION ALL MATCH (n:Container) WHERE n.id IN $containers
RETURN 'Container' AS label, n.id AS id, properties(n) AS props
UNION ALL MATCH (n:Batch) WHERE n.id IN $batches
RETURN 'Batch' AS label, n.id AS id, properties(n) AS props
