// A capture job of the EPCIS REST binding (POST /capture), recorded before its events are captured,
// so that GET /capture/{captureID} answers for it at once and after a restart.
//#include audit.guard
CREATE (j:CaptureJob)
SET j = $props
WITH h, [j] AS audit_targets
//#include audit.append
