"""tracegraph's own engine functions as benchmark systems, on the embedded FalkorDB store (the
code path the CLI, REST and GraphQL all call). Three variants, so that every figure says what
it includes:

    tracegraph          `impact_frame()` over the trace index: reached ids, statuses and every
                        total (per status, product, batch, customer), as arrays; the question the
                        baselines answer, and more
    tracegraph-full     `impact()`: the full ImpactResult contract (one AffectedSerial object per
                        unit, customer contacts, per-product totals), from the trace index
    tracegraph-cypher   `impact(engine="cypher")`: the same contract answered by the graph
                        database alone (the path used without an index, or when it is stale)

Options chosen to ask the same question as the baselines: `include_paths=False` (no
provenance path per unit) and `include_siblings=False` (no sibling listing).

The benchmark plant is bulk-loaded without audit entries, so the index is built explicitly
(`trace_index.refresh`) when the system is created; its build time is printed ("ready: ...")
and stored in the results' meta.
"""

from __future__ import annotations

from typing import Any, Literal

from perf.baselines import Answer
from perf.plants import iso_at

Variant = Literal["frame", "full", "cypher"]
NAMES: dict[str, str] = {"frame": "tracegraph", "full": "tracegraph-full", "cypher": "tracegraph-cypher"}


class EngineSystem:
    def __init__(self, store: Any, variant: Variant = "frame", *, include_paths: bool = False) -> None:
        from tracegraph.engine.trace import index as trace_index
        from tracegraph.engine.trace.backward import backward_trace
        from tracegraph.engine.trace.impact import impact, impact_frame
        from tracegraph.engine.trace.models import ImpactCause, ImpactOptions

        self.store, self.variant = store, variant
        self.name = NAMES[variant] + ("-paths" if include_paths else "")
        self._impact, self._frame, self._backward = impact, impact_frame, backward_trace
        self.Cause, self.options = ImpactCause, ImpactOptions(include_paths=include_paths)
        self.index_build_s: float | None = None
        if variant != "cypher":
            st = trace_index.status(store)
            if not (st.enabled and st.fresh):
                trace_index.refresh(store)
            self.index_build_s = trace_index.status(store).build_s

    def _answer(self, cause: Any) -> Answer:
        if self.variant == "frame":
            fr = self._frame(self.store, cause, self.options)
            if fr is None:
                raise RuntimeError("the trace index declined or is stale")
            return {"serials": fr.serial_ids(), "customers": fr.customer_ids()}
        r = self._impact(self.store, cause, self.options, engine="index" if self.variant == "full" else "cypher")
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
