// Equipment each batch was processed on, with the usage window ($ids: batch ids).
UNWIND $ids AS k
MATCH (:Batch {id: k})-[r:PROCESSED_ON]->(n:Equipment)
RETURN k AS key, n, r.from AS from, r.to AS to
