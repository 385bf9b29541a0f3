// Assemblies each serial was built into ($ids: component serial keys).
UNWIND $ids AS k
MATCH (:Serial {id: k})-[r:COMPONENT_OF]->(n:Serial)
RETURN k AS key, n, r.at AS at
