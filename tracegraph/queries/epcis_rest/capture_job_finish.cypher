// A capture job's outcome: finished, success or not, its errors, and the import it wrote.
//#include audit.guard
MATCH (j:CaptureJob {id: $id}) WHERE j.running = true
SET j += $props
WITH h, [j] AS audit_targets
//#include audit.append
