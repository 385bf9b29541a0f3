// How many quality records match the search filters (the typed connection's totalCount).
//#include qms.search.records_where
RETURN count(n) AS c
