// Serials whose stored UDI is one of $udis (the scanned string and its normalised forms).
MATCH (n:Serial) WHERE n.udi IN $udis
RETURN 'Serial' AS label, n AS node
LIMIT 5
