// How many serials are in each status (where units are now), for the dashboard.
MATCH (s:Serial)
RETURN s.status AS status, count(s) AS c ORDER BY status
