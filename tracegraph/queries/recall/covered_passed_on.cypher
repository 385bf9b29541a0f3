// The covered units each consignee in $customers passed on: units of recall $id shipped to it
// (by us or by another consignee) that another consignee held at the decision. A recall letter
// to a distributor lists them (it must find and notify its own customers).
UNWIND $customers AS cid
MATCH (:Customer {id: cid})<-[:DELIVERED_TO]-(:Shipment)<-[:SHIPPED_IN]-(s:Serial)<-[cv:COVERS]-(:Recall {id: $id})
WHERE cv.customer_at_decision <> '' AND cv.customer_at_decision <> cid
  AND cv.status_at_decision IN $held
RETURN DISTINCT cid AS customer, s.id AS id, cv.batch_id AS batch, s.product_id AS product,
       cv.customer_at_decision AS holder
ORDER BY customer, id
