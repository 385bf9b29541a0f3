// The one node every database needs before the first write: the audit chain's head at the genesis
// hash (64 zeros, tracegraph.engine.audit.chain.GENESIS_HASH; tests/test_model.py checks they agree).
// Run by every store's apply_schema, so the stores need not import the audit domain.
MERGE (h:AuditHead {id: 'main'})
ON CREATE SET h.seq = 0, h.hash = '0000000000000000000000000000000000000000000000000000000000000000'
RETURN h.seq AS seq, h.hash AS hash
