"""The audit proof: the audited write primitive, chain verification, Merkle proofs, signed
checkpoints and Part 11 electronic signatures.

Owns: `chain` (the `AuditEntry` append inside each business statement, compare-and-set on the head,
RFC 8785 hashes), `verify` (recompute the chain and every record's state), `merkle` (RFC 6962 trees,
inclusion and consistency proofs), `checkpoints` (Ed25519-signed heads), `signatures` (21 CFR 11.50/
11.70/11.200 signatures bound to content, two-person rules).
May import: `engine.access` (who acts, with which permission), `engine.commands`, the top-level
engine modules, `queries`, `stores`. Nothing here knows traces or recalls.
"""
