// How many Shipment nodes match the list filters (connection totalCount).
//#include browse.shipments_where
RETURN count(n) AS c
