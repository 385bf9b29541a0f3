"""tracegraph's own engine functions as a benchmark system: `impact()` and `backward_trace()`
on the embedded FalkorDB store (the code path the CLI, REST and GraphQL all call).

Options chosen to ask the same question as the baselines: `include_paths=False` (no
provenance path per unit) and `include_siblings=False` (no sibling listing); everything else
(status split, per-customer totals, batches and lots) is still computed, so the engine does
more work per call than any baseline.
"""

from __future__ import annotations

from typing import Any

from perf.baselines import Answer
from perf.plants import iso_at


class EngineSystem:
    name = "tracegraph"

    def __init__(self, store: Any, *, include_paths: bool = False) -> None:
        from tracegraph.engine.impact import impact
        from tracegraph.engine.trace import backward_trace
        from tracegraph.engine.trace_models import ImpactCause, ImpactOptions

        self.store = store
        self._impact, self._backward = impact, backward_trace
        self.Cause, self.options = ImpactCause, ImpactOptions(include_paths=include_paths)
        if include_paths:
            self.name = "tracegraph-paths"

    def _answer(self, cause: Any) -> Answer:
        r = self._impact(self.store, cause, self.options)
        return {"serials": [s.id for s in r.serials], "customers": [c.id for c in r.customers]}

    def lot_impact(self, lot_id: str) -> Answer:
        return self._answer(self.Cause(lots=[lot_id]))

    def supplier_impact(self, supplier_id: str) -> Answer:
        return self._answer(self.Cause(supplier=supplier_id))

    def equipment_impact(self, equipment_id: str, t0: int, t1: int) -> Answer:
        return self._answer(self.Cause(equipment=equipment_id, window_from=iso_at(t0), window_to=iso_at(t1)))

    def backward(self, serial_id: str) -> Answer:
        r = self._backward(self.store, serial_id, include_siblings=False)
        ids = [s["id"] for s in r.serials] + [b.id for b in r.batches] + [lot.id for lot in r.lots]
        ids += sorted({s.supplier for s in r.suppliers})
        return {"ancestors": ids}

    def close(self) -> None:
        pass
