// Component serials built into each serial ($ids: serial keys of assemblies).
UNWIND $ids AS k
MATCH (n:Serial)-[r:COMPONENT_OF]->(:Serial {id: k})
RETURN k AS key, n, r.at AS at
