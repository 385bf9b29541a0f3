// Backward trace of one serial: every component serial, batch, sub-assembly batch, lot,
// parent lot and supplier it came from.
MATCH (s:Serial {id: $id})<-[:COMPONENT_OF*0..]-(u)
WITH DISTINCT u
MATCH (u)<-[:PRODUCED]-(b0)
WITH collect(DISTINCT u) AS units, collect(DISTINCT b0) AS b0s
UNWIND b0s AS b0
MATCH (b0)<-[:CONSUMED_IN*0..]-(b:Batch)
WITH units, collect(DISTINCT b) AS batches
UNWIND batches AS b
OPTIONAL MATCH (b)<-[:CONSUMED_IN]-(l0:MaterialLot)
WITH units, batches, collect(DISTINCT l0) AS l0s
UNWIND (CASE WHEN size(l0s) = 0 THEN [null] ELSE l0s END) AS l0
OPTIONAL MATCH (l0)<-[:SPLIT_INTO|MERGED_INTO*0..]-(l:MaterialLot)
WITH units, batches, collect(DISTINCT l) AS lots
UNWIND (CASE WHEN size(lots) = 0 THEN [null] ELSE lots END) AS l
OPTIONAL MATCH (l)<-[:SUPPLIED]-(sup:Supplier)
WITH units, batches, lots, collect(DISTINCT sup) AS sups
RETURN [x IN units WHERE x.id <> $id | x.id] + [x IN batches | x.id] + [x IN lots | x.id] + [x IN sups | x.id] AS ancestors
