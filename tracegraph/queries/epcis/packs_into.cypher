// Before an EPCIS unpack step: every PACKED_IN link into these containers, with the child's label
// (engine/imports/merge_seals.py predicts which links it closes and seals them).
UNWIND $ids AS k
MATCH (c)-[p:PACKED_IN]->(o:Container {id: k})
RETURN labels(c)[0] AS cl, c.id AS c, o.id AS o, p.from AS `from`, p.to AS `to`, p.qty AS qty, p.seal AS s,
  p.sealed_seq AS q
