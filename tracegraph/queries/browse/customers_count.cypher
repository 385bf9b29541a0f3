// How many Customer nodes match the list filters (connection totalCount).
//#include browse.customers_where
RETURN count(n) AS c
