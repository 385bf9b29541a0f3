// Record counts for the dashboard (label scans only, no property reads).
OPTIONAL MATCH (a:Supplier) WITH count(a) AS suppliers
OPTIONAL MATCH (b:MaterialLot) WITH suppliers, count(b) AS lots
OPTIONAL MATCH (c:Batch) WITH suppliers, lots, count(c) AS batches
OPTIONAL MATCH (d:Serial) WITH suppliers, lots, batches, count(d) AS serials
OPTIONAL MATCH (e:Customer) WITH suppliers, lots, batches, serials, count(e) AS customers
OPTIONAL MATCH (f:Shipment) WITH suppliers, lots, batches, serials, customers, count(f) AS shipments
RETURN suppliers, lots, batches, serials, customers, shipments
