"""The domain: everything tracegraph knows about supply chains, recalls, quality records and proof.

Rooms (one subpackage per capability, each with a docstring saying what it owns and may import):
`trace` (backward trace, impact on the graph and on the trace index, scan resolution, regulator
sheets), `recall` (campaigns to closure), `qms` (quality records as data and one lifecycle engine),
`imports` (all-or-nothing imports), `audit` (the audited write, verify, proofs, checkpoints,
e-signatures), `access` (the Actor, users, tokens, permissions), `ops` (backup, offline backup checks,
restore), `stores` (one adapter per
database behind the GraphStore protocol; it knows no domain).
At the top: `model` (the records of every node and edge), `errors` (the one error tree),
`clock`, `commands` (audited create/update/link of plain records), `browse` (paged reads).
The layers between the rooms are import-linter contracts in pyproject.toml (docs/architecture.md).
"""
