"""Recall campaigns from decision to closure.

Owns: `campaign` (create, approve, start, complete, close, cancel; the frozen scope snapshot),
`scope` (impact answer -> covered batches and units), `rules` (jurisdiction clocks and policy as
data), `clocks` (deadlines), `alerts` (overdue and at-risk), `notify` (letters per customer and
language, acknowledgements), `returns` (returns by scan, quarantine, reconciliation),
`effectiveness` (checks against target), `signing` (which steps need which signatures), `drill`
(a timed mock recall that changes nothing), `xlsx` (the fast sheet writer for big letters lists).
Dependency order inside the room, lowest first: rules, signing, xlsx < campaign < scope, clocks,
returns < effectiveness, notify < alerts, drill.
May import: `engine.trace`, `engine.audit`, `engine.access`, the top-level engine modules,
`queries`, `stores`.
"""
