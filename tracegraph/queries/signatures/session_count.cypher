// How many signatures were made in one session (11.200: first signing needs the user id too).
MATCH (s:Signature)
WHERE s.session = $session
RETURN count(s) AS count
