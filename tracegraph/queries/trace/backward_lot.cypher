// Backward trace from one material lot.
MATCH (start:MaterialLot {id: $id})
//#include trace.backward_tail
