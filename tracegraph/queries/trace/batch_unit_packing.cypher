// Packing intervals of the units the batches $bids PRODUCED, as ONE row of strings
// "unit<us>container<us>from<us>to" (as trace.unit_packing). Why through the batch: its units are
// one hop away, where looking each unit up by id costs ~3 us a unit (engine/trace/containers.py
// keeps only the units an answer lists). No labels on `s` and `k`: PRODUCED leads to units and a
// unit is PACKED_IN containers only (engine/model.py), and the label checks cost a third of the time.
UNWIND $bids AS bid
MATCH (:Batch {id: bid})-[:PRODUCED]->(s)-[p:PACKED_IN]->(k)
RETURN collect(s.id + $us + k.id + $us + coalesce(p.from, '') + $us + coalesce(p.to, '')) AS links
