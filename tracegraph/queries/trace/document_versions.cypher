// Every version of the given document ids, with their effective windows.
UNWIND $doc_ids AS did
MATCH (v:Document {doc_id: did})
RETURN v.id AS id, v.doc_id AS doc_id, v.version AS version, v.effective_from AS effective_from,
       v.effective_to AS effective_to
