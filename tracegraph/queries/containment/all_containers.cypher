// Every container (recovery of an import that stopped between its commit and its derivation).
MATCH (k:Container)
RETURN k.id AS id
