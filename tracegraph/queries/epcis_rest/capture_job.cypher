// One capture job by its captureID.
MATCH (j:CaptureJob {id: $id})
RETURN properties(j) AS job
