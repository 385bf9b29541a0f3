// GENERATED from queries/qms/templates/search/records_where.tmpl by
// tracegraph.engine.qms.types.generate_queries(): do not edit by hand.
// Quality records of the types in $labels (Complaint, Deviation, CAPA, Document, ChangeControl, Release, TrainingRecord, Calibration, Supplier, Inspection), with their derived columns
// (label, title, owner, due), filtered (null parameters match all). Included by records_page and
// records_count. Dates compare as YYYY-MM-DD prefixes; $q is lower-cased by the engine.
CALL { UNWIND CASE WHEN 'Complaint' IN $labels THEN [1] ELSE [] END AS w0
       MATCH (r0:Complaint) RETURN collect(r0) AS l0 }
CALL { UNWIND CASE WHEN 'Deviation' IN $labels THEN [1] ELSE [] END AS w1
       MATCH (r1:Deviation) RETURN collect(r1) AS l1 }
CALL { UNWIND CASE WHEN 'CAPA' IN $labels THEN [1] ELSE [] END AS w2
       MATCH (r2:CAPA) RETURN collect(r2) AS l2 }
CALL { UNWIND CASE WHEN 'Document' IN $labels THEN [1] ELSE [] END AS w3
       MATCH (r3:Document) RETURN collect(r3) AS l3 }
CALL { UNWIND CASE WHEN 'ChangeControl' IN $labels THEN [1] ELSE [] END AS w4
       MATCH (r4:ChangeControl) RETURN collect(r4) AS l4 }
CALL { UNWIND CASE WHEN 'Release' IN $labels THEN [1] ELSE [] END AS w5
       MATCH (r5:Release) RETURN collect(r5) AS l5 }
CALL { UNWIND CASE WHEN 'TrainingRecord' IN $labels THEN [1] ELSE [] END AS w6
       MATCH (r6:TrainingRecord) RETURN collect(r6) AS l6 }
CALL { UNWIND CASE WHEN 'Calibration' IN $labels THEN [1] ELSE [] END AS w7
       MATCH (r7:Calibration) RETURN collect(r7) AS l7 }
CALL { UNWIND CASE WHEN 'Supplier' IN $labels THEN [1] ELSE [] END AS w8
       MATCH (r8:Supplier) RETURN collect(r8) AS l8 }
CALL { UNWIND CASE WHEN 'Inspection' IN $labels THEN [1] ELSE [] END AS w9
       MATCH (r9:Inspection) RETURN collect(r9) AS l9 }
UNWIND l0 + l1 + l2 + l3 + l4 + l5 + l6 + l7 + l8 + l9 AS n
WITH n, labels(n)[0] AS label, CASE labels(n)[0] WHEN 'Complaint' THEN n.description WHEN 'Deviation' THEN n.title WHEN 'CAPA' THEN n.title WHEN 'Document' THEN n.title WHEN 'ChangeControl' THEN n.title WHEN 'Supplier' THEN n.name ELSE null END AS title,
     coalesce(n.owner, n.created_by) AS owner, CASE labels(n)[0] WHEN 'Complaint' THEN CASE WHEN n.reported_at IS NULL THEN n.report_due END WHEN 'CAPA' THEN n.due_date WHEN 'Calibration' THEN n.due_at WHEN 'Supplier' THEN n.qualified_until ELSE null END AS due
WHERE ($statuses IS NULL OR n.status IN $statuses)
  AND ($owner IS NULL OR owner = $owner)
  AND ($due_after IS NULL OR (due IS NOT NULL AND substring(due, 0, 10) >= $due_after))
  AND ($due_before IS NULL OR (due IS NOT NULL AND substring(due, 0, 10) <= $due_before))
  AND ($created_from IS NULL OR substring(n.created_at, 0, 10) >= $created_from)
  AND ($created_to IS NULL OR substring(n.created_at, 0, 10) <= $created_to)
  AND ($q IS NULL OR toLower(n.id) CONTAINS $q
       OR any(t IN [title, n.title, n.name, n.reporter, n.description] WHERE t IS NOT NULL AND toLower(t) CONTAINS $q))
