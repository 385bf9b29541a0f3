"""The graph-database systems in the benchmark: tracegraph's engine (when it is there), the
expected Cypher on embedded FalkorDB (RESP over a unix socket), and the same Cypher through
the neo4j driver over FalkorDB's Bolt endpoint.

The Cypher lives in perf/queries/*.cypher: it is the query shape we expect the trace engine
to run (and the fallback while the engine is not built). Parameters only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from perf.baselines import Answer
from perf.plants import iso_at

QUERY_DIR = Path(__file__).resolve().parent / "queries"


@lru_cache(maxsize=None)
def query(name: str) -> str:
    """Text of perf/queries/<name>.cypher (comments stripped: the Bolt endpoint splices text)."""
    text = (QUERY_DIR / f"{name}.cypher").read_text()
    return "\n".join(ln for ln in text.splitlines() if not ln.strip().startswith("//")).strip()


def _impact_row(rows: list[dict[str, Any]]) -> Answer:
    if not rows:
        return {"serials": [], "customers": []}
    r = rows[0]
    return {"serials": list(r.get("serials") or []), "customers": list(r.get("customers") or [])}


class CypherSystem:
    """Runs perf/queries/*.cypher through any store with `run(cypher, params, write=False)`."""

    def __init__(self, name: str, store: Any) -> None:
        self.name = name
        self.store = store

    def _read(self, q: str, **params: Any) -> list[dict[str, Any]]:
        return self.store.run(query(q), params, write=False)

    def lot_impact(self, lot_id: str) -> Answer:
        return _impact_row(self._read("lot_impact", id=lot_id))

    def supplier_impact(self, supplier_id: str) -> Answer:
        return _impact_row(self._read("supplier_impact", id=supplier_id))

    def equipment_impact(self, equipment_id: str, t0: int, t1: int) -> Answer:
        return _impact_row(self._read("equipment_impact", id=equipment_id, t0=iso_at(t0), t1=iso_at(t1)))

    def backward(self, serial_id: str) -> Answer:
        rows = self._read("backward_trace", id=serial_id)
        return {"ancestors": list(rows[0]["ancestors"]) if rows else []}

    def close(self) -> None:
        pass


def engine_available() -> bool:
    """True when the trace engineer's impact/trace modules import."""
    try:
        import tracegraph.engine.impact  # noqa: F401
        import tracegraph.engine.trace  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = ["CypherSystem", "engine_available", "query"]
