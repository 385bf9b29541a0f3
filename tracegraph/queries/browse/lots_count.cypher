// How many MaterialLot nodes match the list filters (connection totalCount).
//#include browse.lots_where
RETURN count(n) AS c
