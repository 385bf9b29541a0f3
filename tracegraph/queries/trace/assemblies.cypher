// Assemblies reached through COMPONENT_OF from the serials of the given batches ($bids) or from
// given serials ($sids, which are returned themselves too), each packed like trace.units, with
// its components packed as component id + $sep + COMPONENT_OF.at.
UNWIND $bids AS bid
MATCH (:Batch {id: bid})-[:PRODUCED]->(:Serial)-[:COMPONENT_OF*1..]->(a)
WITH DISTINCT a
OPTIONAL MATCH (c:Serial)-[r:COMPONENT_OF]->(a)
RETURN a.id + $sep + coalesce(a.batch_id, '') + $sep + coalesce(a.status, '') + $sep + coalesce(a.customer_id, '')
       + $sep + coalesce(a.warehouse, '') + $sep + coalesce(a.product_id, '') AS unit,
       collect(c.id + $sep + coalesce(r.at, '')) AS comps
UNION
UNWIND $sids AS sid
MATCH (:Serial {id: sid})-[:COMPONENT_OF*0..]->(a)
WITH DISTINCT a
OPTIONAL MATCH (c:Serial)-[r:COMPONENT_OF]->(a)
RETURN a.id + $sep + coalesce(a.batch_id, '') + $sep + coalesce(a.status, '') + $sep + coalesce(a.customer_id, '')
       + $sep + coalesce(a.warehouse, '') + $sep + coalesce(a.product_id, '') AS unit,
       collect(c.id + $sep + coalesce(r.at, '')) AS comps
