// How many Supplier nodes match the list filters (connection totalCount).
//#include browse.suppliers_where
RETURN count(n) AS c
