// SimpleEventQuery over stored EPCIS events (GS1 EPCIS 2.0 REST binding, GET /events). Every filter
// is a parameter that is null when not asked for; $ids narrows to the events found by the object
// filters (MATCH_epc, MATCH_parentID, ...) first. Keyset paging on (event_time, id): $after_time,
// $after_id are the last row of the previous page.
// Events of an import run still staging ($staging: their run ids) are not stored yet and are left out.
MATCH (e:EpcisEvent)
WHERE NOT coalesce(e.import_id, '') IN $staging
  AND ($ids IS NULL OR e.id IN $ids)
  AND ($event_types IS NULL OR e.type IN $event_types)
  AND ($ge_event_time IS NULL OR e.event_time >= $ge_event_time)
  AND ($lt_event_time IS NULL OR e.event_time < $lt_event_time)
  AND ($ge_record_time IS NULL OR e.record_time >= $ge_record_time)
  AND ($lt_record_time IS NULL OR e.record_time < $lt_record_time)
  AND ($actions IS NULL OR e.action IN $actions)
  AND ($biz_steps IS NULL OR e.biz_step IN $biz_steps)
  AND ($dispositions IS NULL OR e.disposition IN $dispositions)
  AND ($read_points IS NULL OR e.read_point IN $read_points)
  AND ($biz_locations IS NULL OR e.biz_location IN $biz_locations)
  AND ($after_time IS NULL OR e.event_time > $after_time OR (e.event_time = $after_time AND e.id > $after_id))
RETURN e.id AS id, e.json AS json, e.context AS context, e.event_time AS event_time
ORDER BY e.event_time, e.id
LIMIT $limit
