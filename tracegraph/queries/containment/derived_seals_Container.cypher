// The seals of the derived SHIPPED_IN / RETURNED_IN edges (those with `via`) of these Container items,
// which `containment.apply` deletes and derives again: its audit entry drops them.
UNWIND $ids AS i
MATCH (:Container {id: i})-[x:SHIPPED_IN|RETURNED_IN]->()
WHERE x.via IS NOT NULL
RETURN x.seal AS s, x.sealed_seq AS q
