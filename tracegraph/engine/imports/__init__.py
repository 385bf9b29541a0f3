"""All-or-nothing imports: the staged-island runner (`runner`) and the per-label planner (`plan`).

Owns: validating a whole input before writing, staging it beside the live graph, the single
"committing" flip and the pending log that makes a `kill -9` at any moment recoverable, `--resume`,
`--rollback`, and the generated per-label staging statements (`python -m tracegraph.engine.imports.runner`
renders them into `queries/imports/`).
May import: `engine.audit.chain`, `engine.model`, the top-level engine modules, `queries`, `stores`.
Loaders (bundle, EPCIS) call into it; it never imports a loader.
"""
