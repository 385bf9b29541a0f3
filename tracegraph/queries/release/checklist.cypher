// Everything the batch release checklist judges, for one batch, in one read.
MATCH (b:Batch {id: $batch})
OPTIONAL MATCH (l:MaterialLot)-[:CONSUMED_IN]->(b)
OPTIONAL MATCH (i:Inspection)-[:INSPECTED]->(l)
WITH b, l, collect(CASE WHEN i.status = 'reopened' THEN 'reopened' ELSE i.result END) AS results
WITH b, collect(CASE WHEN l IS NULL THEN NULL ELSE {lot: l.id, results: results} END) AS lots
// deviations about the batch, then about its lots: two traversals anchored on b (one pattern with an
// unlabelled end and `x = b OR ...` made FalkorDB scan every node of the graph, ~110 ms at 130k nodes)
OPTIONAL MATCH (d:Deviation)-[:ABOUT]->(b)
WITH b, lots, collect(DISTINCT CASE WHEN d IS NULL THEN NULL ELSE {id: d.id, status: d.status, about: b.id} END) AS on_batch
OPTIONAL MATCH (d:Deviation)-[:ABOUT]->(x:MaterialLot)-[:CONSUMED_IN]->(b)
WITH b, lots, on_batch, collect(DISTINCT CASE WHEN d IS NULL THEN NULL ELSE {id: d.id, status: d.status, about: x.id} END)
     AS on_lots
WITH b, lots, on_batch + on_lots AS deviations
OPTIONAL MATCH (b)-[u:PROCESSED_ON]->(e:Equipment)
OPTIONAL MATCH (c:Calibration)-[:CALIBRATES]->(e)
WHERE c.date <= coalesce(u.from, b.started_at) AND coalesce(c.status, 'recorded') <> 'voided'
  AND coalesce(c.kind, 'calibration') = 'calibration'
WITH b, lots, deviations, u, e, c ORDER BY c.date DESC
WITH b, lots, deviations, u, e, collect(c)[0] AS cal
WITH b, lots, deviations,
     collect(CASE WHEN e IS NULL THEN NULL ELSE {equipment: e.id, from: u.from, to: u.to, operator: u.operator,
             cal_date: cal.date, cal_result: cal.result, cal_due: coalesce(cal.due_at, e.calibration_due_at)} END) AS usage
OPTIONAL MATCH (b)-[:DOCUMENTED_BY]->(doc:Document)
WHERE (doc.effective_from IS NULL OR doc.effective_from <= coalesce(b.started_at, doc.effective_from))
  AND (doc.effective_to IS NULL OR doc.effective_to > coalesce(b.started_at, ''))
WITH b, lots, deviations, usage, collect(DISTINCT doc.id) AS documents
OPTIONAL MATCH (t:TrainingRecord)
WHERE t.document_id IN documents AND t.trained_at <= coalesce(b.started_at, t.trained_at)
  AND coalesce(t.retired, false) = false
RETURN b.id AS batch, b.status AS status, b.started_at AS started_at, lots, deviations, usage, documents,
       collect(DISTINCT [t.user_id, t.document_id]) AS trained
