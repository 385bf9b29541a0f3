"""Trace and impact: backward trace, forward impact on the graph and on the in-memory trace index,
result models, regulator sheets and scan resolution.

Owns: `models` (the pydantic results and the `ImpactCause`), `fast` (FalkorDB reply decoding, model
building without re-validation, GC pausing: shared by every fast reader), `seeds` (a cause's
starting nodes and the question's echo), `scan` (what a scanned code or key names), `backward`
(upstream trace), `index` (the adjacency image kept in step with the audit head), `impact_index`
(impact answered over the index), `impact` (the graph engine and the switch between engines),
`reports` (CSV/XLSX regulator sheets).
Dependency order inside the room, lowest first: models, fast < scan, seeds < backward, index <
impact_index < impact < reports (import-linter checks it).
May import: `gs1`, the top-level engine modules, `queries`, `stores`. Nothing here writes.
"""
