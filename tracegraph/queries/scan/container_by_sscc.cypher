// A case or pallet by its 18-digit SSCC (key as imported may be an EPC URI or Digital Link).
MATCH (n:Container) WHERE n.sscc = $sscc OR n.id = $sscc
RETURN 'Container' AS label, n AS node
LIMIT 5
