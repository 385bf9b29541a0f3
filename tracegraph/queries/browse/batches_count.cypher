// How many Batch nodes match the list filters (connection totalCount).
//#include browse.batches_where
RETURN count(n) AS c
