// CAPAs not closed whose due date is on or before $until (ISO date).
MATCH (c:CAPA)
WHERE NOT c.status IN ['closed', 'cancelled'] AND c.due_date IS NOT NULL AND c.due_date <= $until
  AND ($owner IS NULL OR c.owner = $owner) AND coalesce(c.retired, false) = false
RETURN c.id AS id, c.title AS title, c.owner AS owner, c.status AS status, c.due_date AS due_date
ORDER BY due_date, id
