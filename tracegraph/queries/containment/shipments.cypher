// Delivery and destination of the shipments $ids (a derived shipment's unit is delivered when
// the shipment is).
UNWIND $ids AS i
MATCH (s:Shipment {id: i})
RETURN s.id AS id, s.delivered_at AS delivered_at, s.customer_id AS customer_id
