// A delivery attempt's outcome: delivered, or the next attempt's time, or given up.
//#include audit.guard
MATCH (d:Delivery {id: $id}) WHERE d.status = 'pending'
SET d += $props
WITH h, [d] AS audit_targets
//#include audit.append
