// Move an ImportRun from one status to the next (staging -> committing), audited.
//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $from_status
SET run.status = $to_status
WITH h, [run] AS audit_targets
//#include audit.append
