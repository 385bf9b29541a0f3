// Backward trace from one batch.
MATCH (start:Batch {id: $id})
//#include trace.backward_tail
