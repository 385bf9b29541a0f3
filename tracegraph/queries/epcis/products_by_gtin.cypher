// Products already in the graph under another key (a part number) with one of these GTINs, so
// EPCIS units and lots of that GTIN join the existing product instead of a new one.
MATCH (p:Product) WHERE p.gtin IN $gtins
RETURN p.id AS id, p.gtin AS gtin
