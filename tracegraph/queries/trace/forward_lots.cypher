// Forward trace from material lots by id ($ids: list of lot codes).
UNWIND $ids AS sid
MATCH (seed:MaterialLot {id: sid})
//#include trace.forward_tail
