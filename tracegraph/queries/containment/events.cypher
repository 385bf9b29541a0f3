// What happened to the containers $ids themselves: their own (not derived) shipments and returns,
// and a destruction. [container, kind, target id, date, disposition]; kind SHIPPED_IN, RETURNED_IN
// or DESTROYED (target = the destroying event).
UNWIND $ids AS cid
MATCH (k:Container {id: cid})
OPTIONAL MATCH (k)-[x:SHIPPED_IN|RETURNED_IN]->(m)
WHERE x.via IS NULL
WITH cid, k, collect(CASE WHEN m IS NULL THEN NULL ELSE [type(x), m.id, m.date, m.disposition, m.customer_id] END) AS evs
RETURN cid AS id, k.sscc AS sscc, k.destroyed_at AS destroyed_at, k.destroyed_event AS destroyed_event, evs
