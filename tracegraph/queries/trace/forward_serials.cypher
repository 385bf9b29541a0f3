// Forward trace from serials by id ($ids: list of serial keys): the units and their assemblies.
UNWIND $ids AS sid
MATCH (seed:Serial {id: sid})
//#include trace.forward_tail
