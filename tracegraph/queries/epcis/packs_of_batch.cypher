// Before an EPCIS pack step: whether each child Batch exists, and every PACKED_IN link out of it
// (container, interval, quantity, seal), for engine/imports/merge_seals.py to predict and seal the result.
UNWIND $ids AS k
OPTIONAL MATCH (c:Batch {id: k})
OPTIONAL MATCH (c)-[p:PACKED_IN]->(o:Container)
RETURN k AS c, c IS NOT NULL AS found, o.id AS o, p.from AS `from`, p.to AS `to`, p.qty AS qty, p.seal AS s,
  p.sealed_seq AS q
