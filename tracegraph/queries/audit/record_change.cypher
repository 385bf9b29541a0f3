// Generic audited property change on one keyed node of a fixed label set.
// $label is checked against the model by the engine before it gets here.
//#include audit.guard
MATCH (n {id: $key}) WHERE $label IN labels(n)
SET n += $props
WITH h, [n] AS audit_targets
//#include audit.append
