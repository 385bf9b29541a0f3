// How big is the plant already in the graph? (re-running `tracegraph demo` reuses it)
MATCH (s:Serial)
RETURN count(s) AS serials
