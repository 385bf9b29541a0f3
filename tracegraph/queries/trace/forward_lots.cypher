// Forward trace from material lots by id ($ids: list of lot codes), material part.
UNWIND $ids AS sid
MATCH (seed:MaterialLot {id: sid})
//#include trace.forward_material
