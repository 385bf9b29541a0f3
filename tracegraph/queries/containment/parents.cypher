// Every container the given units, containers and lots were ever packed in (every interval):
// [child label, child id, container id, from, to, qty]. Walks up a packing tree.
UNWIND $serials AS i
MATCH (:Serial {id: i})-[p:PACKED_IN]->(k:Container)
RETURN 'Serial' AS l, i AS id, k.id AS k, p.from AS f, p.to AS t, p.qty AS q
UNION ALL
UNWIND $containers AS i
MATCH (:Container {id: i})-[p:PACKED_IN]->(k:Container)
RETURN 'Container' AS l, i AS id, k.id AS k, p.from AS f, p.to AS t, p.qty AS q
UNION ALL
UNWIND $batches AS i
MATCH (:Batch {id: i})-[p:PACKED_IN]->(k:Container)
RETURN 'Batch' AS l, i AS id, k.id AS k, p.from AS f, p.to AS t, p.qty AS q
UNION ALL
UNWIND $lots AS i
MATCH (:MaterialLot {id: i})-[p:PACKED_IN]->(k:Container)
RETURN 'MaterialLot' AS l, i AS id, k.id AS k, p.from AS f, p.to AS t, p.qty AS q
