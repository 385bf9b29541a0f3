// Backward trace from one serial.
MATCH (start:Serial {id: $id})
//#include trace.backward_tail
