// The units whose derived `container_id` (the container holding them now, as last derived) is one
// of $ids: the derivation re-derives them with the containers' other contents, so a unit whose link
// into one of them was removed (an EPCIS error declaration, a late packing event) is put right too.
UNWIND $ids AS i
MATCH (s:Serial {container_id: i})
RETURN s.id AS id
