MATCH (r:Recall)-[:RAISED]->(a:RecallAlert)
WHERE ($recall IS NULL OR r.id = $recall)
  AND ($assignee IS NULL OR a.assignee = $assignee)
  AND ($open_only = false OR a.acknowledged_at IS NULL)
RETURN properties(a) AS alert
ORDER BY a.raised_at DESC
LIMIT $limit
