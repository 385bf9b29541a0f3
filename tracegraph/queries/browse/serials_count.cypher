// How many Serial nodes match the list filters (connection totalCount).
//#include browse.serials_where
RETURN count(n) AS c
