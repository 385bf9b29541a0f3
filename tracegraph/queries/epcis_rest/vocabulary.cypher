// The distinct values of one event property across stored events, with counts (the top-level
// resources /eventTypes, /bizSteps, /dispositions, /readPoints, /bizLocations). $field names the
// property; only the five the REST binding lists are ever passed (checked by the caller).
// Events of an import run still staging ($staging: their run ids) are not stored yet and are left out.
MATCH (e:EpcisEvent) WHERE NOT coalesce(e.import_id, '') IN $staging
WITH CASE $field
       WHEN 'type' THEN e.type WHEN 'biz_step' THEN e.biz_step WHEN 'disposition' THEN e.disposition
       WHEN 'read_point' THEN e.read_point WHEN 'biz_location' THEN e.biz_location END AS v
WHERE v IS NOT NULL
RETURN v AS value, count(*) AS events
ORDER BY value
