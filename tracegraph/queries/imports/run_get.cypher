MATCH (run:ImportRun {id: $import_id})
RETURN run
