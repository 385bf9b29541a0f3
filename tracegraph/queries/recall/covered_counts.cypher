// Decision-time counts of covered serial units by status (fast summary, no ids).
MATCH (r:Recall {id: $id})-[cv:COVERS]->(s:Serial)
RETURN cv.status_at_decision AS status, count(s) AS units,
       sum(CASE WHEN s.status <> cv.status_at_decision THEN 1 ELSE 0 END) AS changed
