// Packing intervals of the units the batches $bids PRODUCED, one row per container and interval
// (k, from, to) with the ids of the units in it (`ss`). Why grouped: the units of a case share
// their link's interval, so a supplier-wide answer comes back as ~700 rows of id lists instead of
// ~6,000 joined strings (25 ms instead of 40 ms at 100k serials, with less to decode). Why through
// the batch: its units are one hop away, where looking each unit up by id costs ~3 us a unit
// (engine/trace/containers.py keeps only the units an answer lists). No labels on `s` and `k`:
// PRODUCED leads to units and a unit is PACKED_IN containers only (engine/model.py), and the label
// checks cost a third of the time.
UNWIND $bids AS bid
MATCH (:Batch {id: bid})-[:PRODUCED]->(s)-[p:PACKED_IN]->(k)
WITH k, p.from AS f, p.to AS t, collect(s.id) AS ss
RETURN k.id AS k, f, t, ss
