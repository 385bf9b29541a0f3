// How many Product nodes match the list filters (connection totalCount).
//#include browse.products_where
RETURN count(n) AS c
