// Forward trace from batches by id ($ids: list of batch ids), material part.
UNWIND $ids AS sid
MATCH (seed:Batch {id: sid})
//#include trace.forward_material
