"""The business content of a graph, for "exactly before / exactly after" comparisons in the
import tests: nodes and edges without bookkeeping (audit, import runs) and without the
properties that differ per run (timestamps, provenance)."""

from __future__ import annotations

import json
from typing import Any

SYSTEM_LABELS = {"AuditEntry", "AuditHead", "ImportRun", "ImportLock", "ImportPending"}
VOLATILE = {"created_at", "updated_at", "source", "import_id", "last_import_id", "import_hash", "import_hash_at",
            "sealed_seq"}  # which entry sealed a record depends on how many entries came before


def snapshot(store: Any) -> tuple[list[Any], list[Any]]:
    """Business nodes and edges, as sorted lists."""
    nodes = [
        (r["l"], json.dumps({k: v for k, v in r["p"].items() if k not in VOLATILE}, sort_keys=True))
        for r in store.run("MATCH (n) RETURN labels(n)[0] AS l, properties(n) AS p", write=False)
        if r["l"] not in SYSTEM_LABELS
    ]
    edges = [
        (r["t"], r["a"], r["b"], json.dumps({k: v for k, v in (r["p"] or {}).items() if k not in VOLATILE},
                                            sort_keys=True))
        for r in store.run("MATCH (a)-[e]->(b) RETURN type(e) AS t, a.id AS a, b.id AS b, properties(e) AS p",
                           write=False)
        if r["t"] not in ("ABOUT", "PREV")
    ]
    return sorted(nodes), sorted(edges)
