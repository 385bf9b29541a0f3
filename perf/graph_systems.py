"""The graph-database systems in the benchmark: tracegraph's engine (when it is there), the
expected Cypher on embedded FalkorDB (RESP over a unix socket), and the same Cypher through
the neo4j driver over FalkorDB's Bolt endpoint.

The Cypher lives in perf/queries/*.cypher: it is the query shape we expect the trace engine
to run (and the fallback while the engine is not built). Parameters only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from perf.baselines import Answer
from perf.plants import iso_at

QUERY_DIR = Path(__file__).resolve().parent / "queries"


@cache
def query(name: str) -> str:
    """Text of perf/queries/<name>.cypher (comments stripped: the Bolt endpoint splices text)."""
    text = (QUERY_DIR / f"{name}.cypher").read_text()
    return "\n".join(ln for ln in text.splitlines() if not ln.strip().startswith("//")).strip()


_HOLDER = "CASE WHEN s.status IN ['in_transit', 'at_distributor', 'at_end_user'] THEN s.customer_id END"
_COLLECT = f"RETURN collect(s.id) AS serials,\n       collect(DISTINCT {_HOLDER}) AS customers"
_AS_ROWS = (
    f"WITH collect(s.id) AS serials, collect(DISTINCT {_HOLDER}) AS customers "
    "UNWIND [x IN serials | ['s', x]] + [c IN customers | ['c', c]] AS row RETURN row[0] AS k, row[1] AS id"
)


@cache
def row_query(name: str) -> str:
    """The same query returning one small record per id: FalkorDB 4.16's Bolt endpoint hangs
    when one record exceeds about 64 KB (measured: a list of 3,000 ids came back, 6,000 hung),
    so over Bolt the big lists travel as rows."""
    q = query(name)
    return q.replace(_COLLECT, _AS_ROWS) if _COLLECT in q else q


def _from_rows(rows: list[dict[str, Any]]) -> Answer:
    out: Answer = {"serials": [], "customers": []}
    for r in rows:
        out["serials" if r["k"] == "s" else "customers"].append(r["id"])
    return out


def _impact_row(rows: list[dict[str, Any]]) -> Answer:
    if not rows:
        return {"serials": [], "customers": []}
    r = rows[0]
    return {"serials": list(r.get("serials") or []), "customers": list(r.get("customers") or [])}


class CypherSystem:
    """Runs perf/queries/*.cypher through any store with `run(cypher, params, write=False)`."""

    def __init__(self, name: str, store: Any, *, as_rows: bool = False, timeout_s: float | None = None) -> None:
        self.name = name
        self.store = store
        self.as_rows = as_rows
        self.timeout_s = timeout_s
        self.dead: str | None = None

    def _read(self, q: str, **params: Any) -> list[dict[str, Any]]:
        text = row_query(q) if self.as_rows else query(q)
        if self.timeout_s is None:
            return self.store.run(text, params, write=False)
        return self._guarded(text, params)

    def _guarded(self, text: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Run in a daemon thread and give up after timeout_s: a hung Bolt connection never
        answers again, so the system is marked dead and every later call fails fast."""
        import threading

        if self.dead:
            raise TimeoutError(self.dead)
        box: dict[str, Any] = {}

        def go() -> None:
            try:
                box["rows"] = self.store.run(text, params, write=False)
            except BaseException as exc:
                box["exc"] = exc

        t = threading.Thread(target=go, daemon=True)
        t.start()
        t.join(self.timeout_s)
        if t.is_alive():
            self.dead = f"{self.name}: no answer within {self.timeout_s:.0f} s; connection abandoned"
            raise TimeoutError(self.dead)
        if "exc" in box:
            raise box["exc"]
        return box["rows"]

    def _impact(self, q: str, **params: Any) -> Answer:
        rows = self._read(q, **params)
        return _from_rows(rows) if self.as_rows else _impact_row(rows)

    def lot_impact(self, lot_id: str) -> Answer:
        return self._impact("lot_impact", id=lot_id)

    def supplier_impact(self, supplier_id: str) -> Answer:
        return self._impact("supplier_impact", id=supplier_id)

    def equipment_impact(self, equipment_id: str, t0: int, t1: int) -> Answer:
        return self._impact("equipment_impact", id=equipment_id, t0=iso_at(t0), t1=iso_at(t1))

    def backward(self, serial_id: str) -> Answer:
        rows = self._read("backward_trace", id=serial_id)
        return {"ancestors": list(rows[0]["ancestors"]) if rows else []}

    def close(self) -> None:
        pass


def engine_available() -> bool:
    """True when the trace engineer's impact/trace modules import."""
    try:
        import tracegraph.engine.trace.backward
        import tracegraph.engine.trace.impact  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = ["CypherSystem", "engine_available", "query", "row_query"]
