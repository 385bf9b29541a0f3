UNWIND $ids AS aid
MATCH (a:RecallAlert {id: aid})
RETURN a.id AS id
