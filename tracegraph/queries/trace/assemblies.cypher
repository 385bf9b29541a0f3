// Assemblies reached through COMPONENT_OF from the serials of the given batches ($bids) or from
// given serials ($sids, which are returned themselves too), with their components
// ([component id, COMPONENT_OF.at]) and the container holding each now (`bx`, as trace.forward_material).
UNWIND $bids AS bid
MATCH (:Batch {id: bid})-[:PRODUCED]->(:Serial)-[:COMPONENT_OF*1..]->(a)
WITH DISTINCT a
OPTIONAL MATCH (a)<-[r:COMPONENT_OF]-(c)
RETURN a.id AS id, a.batch_id AS bt, a.status AS st, a.customer_id AS cu, a.warehouse AS wh, a.product_id AS pr,
       a.container_id AS bx, collect([c.id, r.at]) AS comps
UNION
UNWIND $sids AS sid
MATCH (:Serial {id: sid})-[:COMPONENT_OF*0..]->(a)
WITH DISTINCT a
OPTIONAL MATCH (a)<-[r:COMPONENT_OF]-(c)
RETURN a.id AS id, a.batch_id AS bt, a.status AS st, a.customer_id AS cu, a.warehouse AS wh, a.product_id AS pr,
       a.container_id AS bx, collect([c.id, r.at]) AS comps
