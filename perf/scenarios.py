"""The four questions, their parameters, and the run loop that times every system on them
and checks that every system gave the same answer.

    lot_impact        a random material lot -> affected serials and customers
    supplier_impact   everything one supplier delivered -> serials and customers
    equipment_impact  batches on one machine in a 7-day window -> serials and customers
    backward_trace    one serial -> every lot, batch, component and supplier it came from
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from perf.baselines import Answer, System, items
from perf.harness import PlantHandle, timeit

SCENARIOS: tuple[str, ...] = ("lot_impact", "supplier_impact", "equipment_impact", "backward_trace")
SYSTEMS: tuple[str, ...] = ("tracegraph", "tracegraph-full", "tracegraph-cypher", "falkordb-cypher", "tracegraph-bolt", "sqlite-cte", "sqlite-erp", "networkx", "scipy-csr")
WINDOW_S = 7 * 86_400
#: answers are checked for this many distinct parameters per scenario (the first calls)
VERIFY = 3
#: a system stops repeating a scenario after this many seconds (at least MIN_CALLS calls)
BUDGET_S = 40.0
MIN_CALLS = 5
#: a Bolt call that has not answered after this long is abandoned (see graph_systems._guarded)
BOLT_TIMEOUT_S = 60.0


def parameters(h: PlantHandle, scenario: str, k: int, seed: int = 11) -> list[tuple[Any, ...]]:
    """k deterministic parameter tuples for a scenario (fewer if the plant has fewer causes)."""
    p = h.plant
    rng = np.random.default_rng(seed + SCENARIOS.index(scenario))

    def pick(label: str, n: int) -> list[str]:
        idx = p.block(label)
        chosen = rng.choice(idx, min(n, idx.shape[0]), replace=False)
        return p.keys[chosen].tolist()

    if scenario == "lot_impact":
        return [(x,) for x in pick("MaterialLot", k)]
    if scenario == "supplier_impact":
        return [(x,) for x in pick("Supplier", k)]
    if scenario == "backward_trace":
        return [(x,) for x in pick("Serial", k)]
    if scenario == "equipment_impact":
        lo, hi = int(p.processed_from.min()), int(p.processed_to.max())
        eqs = pick("Equipment", k)
        starts = rng.integers(lo, max(lo + 1, hi - WINDOW_S), len(eqs)).tolist()
        return [(e, int(t0), int(t0) + WINDOW_S) for e, t0 in zip(eqs, starts)]
    raise ValueError(f"unknown scenario {scenario!r}; use one of {', '.join(SCENARIOS)}")


def call(system: System, scenario: str) -> Callable[..., Answer]:
    method = {"lot_impact": "lot_impact", "supplier_impact": "supplier_impact",
              "equipment_impact": "equipment_impact", "backward_trace": "backward"}[scenario]
    return getattr(system, method)  # type: ignore[no-any-return]


def build_systems(h: PlantHandle, names: tuple[str, ...] | list[str], say: Callable[[str], None]) -> list[System]:
    """Instantiate the requested systems over one plant (building caches on first use)."""
    from perf.graph_systems import CypherSystem, engine_available

    out: list[System] = []
    for name in names:
        if name == "falkordb-cypher" and any(s.name == name for s in out):
            continue  # "tracegraph" already fell back to it
        t0 = time.perf_counter()
        if name in ("tracegraph", "tracegraph-full", "tracegraph-cypher"):
            if engine_available():
                from perf.engine_system import NAMES, EngineSystem

                variant = next(v for v, n in NAMES.items() if n == name)
                out.append(EngineSystem(h.store, variant))  # type: ignore[arg-type]
            elif not any(s.name == "falkordb-cypher" for s in out):
                out.append(CypherSystem("falkordb-cypher", h.store))
            else:
                continue
        elif name == "falkordb-cypher":
            out.append(CypherSystem("falkordb-cypher", h.store))
        elif name == "tracegraph-bolt":
            runner = h.bolt_store if h.bolt_store is not None else _DriverRunner(h.bolt_driver)
            out.append(CypherSystem("tracegraph-bolt", runner, as_rows=True, timeout_s=BOLT_TIMEOUT_S))
        elif name == "sqlite-cte":
            from perf.baselines.sqlite_cte import SqliteCTE

            out.append(SqliteCTE(h.sqlite_cte_path))
        elif name == "sqlite-erp":
            from perf.baselines.sqlite_erp import SqliteERP

            out.append(SqliteERP(h.sqlite_erp_path))
        elif name == "networkx":
            out.append(h.networkx)
        elif name == "scipy-csr":
            out.append(h.csr)
        else:
            raise ValueError(f"unknown system {name!r}; use one of {', '.join(SYSTEMS)}")
        say(f"ready: {out[-1].name} ({time.perf_counter() - t0:.1f} s)")
    return out


class _DriverRunner:
    """`run()` over a bare neo4j driver, for when tracegraph's Neo4jStore is not there."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def run(self, cypher: str, params: dict[str, Any] | None = None, *, write: bool = False) -> list[dict[str, Any]]:
        with self.driver.session() as s:
            return [dict(r) for r in s.run(cypher, params or {})]


def normalise(answer: Answer) -> dict[str, list[str]]:
    return {k: sorted(set(v)) for k, v in answer.items()}


def describe(answer: Answer) -> str:
    return ", ".join(f"{k}={len(set(v))}" for k, v in sorted(answer.items()))


@dataclass
class Mismatch:
    scenario: str
    params: tuple[Any, ...]
    reference: str
    system: str
    expected: str
    got: str
    example: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "params": list(self.params), "reference": self.reference,
                "system": self.system, "expected": self.expected, "got": self.got, "example": self.example}


#: a system whose single call takes longer than this is timed on that one call only
SLOW_S = 15.0


def verify(
    systems: list[System], scenario: str, args: list[tuple[Any, ...]]
) -> tuple[list[Mismatch], dict[str, float], dict[str, str]]:
    """Run every system on the first VERIFY parameter tuples and compare the answers to the
    first system's. Returns mismatches, each system's seconds per call (to size the timing),
    and the systems that failed (error text) or were too slow for repeated timing."""
    mismatches: list[Mismatch] = []
    cost: dict[str, list[float]] = {}
    failed: dict[str, str] = {}
    ref_answers: dict[int, tuple[str, dict[str, list[str]]]] = {}
    for s in systems:
        for i, a in enumerate(args[:VERIFY]):
            t0 = time.perf_counter()
            try:
                ans = normalise(call(s, scenario)(*a))
            except Exception as exc:  # a failing system is reported, not fatal
                failed[s.name] = f"error: {type(exc).__name__}: {str(exc)[:200]}"
                break
            dt = time.perf_counter() - t0
            cost.setdefault(s.name, []).append(dt)
            if i not in ref_answers:
                ref_answers[i] = (s.name, ans)
            else:
                ref_name, ref = ref_answers[i]
                if ans != ref:
                    example = {}
                    for key in ref:
                        missing = sorted(set(ref[key]) - set(ans.get(key, [])))[:3]
                        extra = sorted(set(ans.get(key, [])) - set(ref[key]))[:3]
                        if missing or extra:
                            example[f"{key}_missing"] = missing
                            example[f"{key}_extra"] = extra
                    mismatches.append(Mismatch(scenario, a, ref_name, s.name, describe(ref), describe(ans), example))
            if dt > SLOW_S:
                failed.setdefault(s.name, f"slow: one call took {dt:.1f} s (> {SLOW_S:.0f} s), timed once")
                break
    return mismatches, {k: sum(v) / len(v) for k, v in cost.items()}, failed


def run(
    h: PlantHandle,
    scenarios: list[str],
    systems: list[System],
    repeat: int,
    say: Callable[[str], None],
) -> tuple[list[dict[str, Any]], list[Mismatch]]:
    """Time every system on every scenario in this one process; return result rows and mismatches."""
    rows: list[dict[str, Any]] = []
    mismatches: list[Mismatch] = []
    counts = h.counts()
    for scenario in scenarios:
        args = parameters(h, scenario, max(repeat, VERIFY))
        bad, cost, failed = verify(systems, scenario, args)
        mismatches += bad
        for m in bad:
            say(f"[bold red]MISMATCH[/] {scenario} {m.params}: {m.reference} {m.expected} vs {m.system} {m.got}")
        for s in systems:
            base = {"scenario": scenario, "system": s.name, "size": h.size, "serials": counts["serials"],
                    "nodes": counts["nodes"], "edges": counts["edges"]}
            note = failed.get(s.name)
            if note and note.startswith("error"):
                say(f"[red]{scenario} {s.name}: {note}[/]")
                rows.append({**base, "p50_ms": None, "p95_ms": None, "p99_ms": None, "items_per_s": None,
                             "n": 0, "verified": False, "note": note})
                continue
            if note:  # too slow to repeat: report the one verification call
                ms = cost[s.name] * 1000
                say(f"[yellow]{scenario} {s.name}: {note}[/]")
                rows.append({**base, "p50_ms": round(ms, 3), "p95_ms": round(ms, 3), "p99_ms": round(ms, 3),
                             "items_per_s": None, "n": 1, "verified": not any(m.system == s.name for m in bad),
                             "note": note})
                continue
            n = repeat
            if cost.get(s.name, 0) * n > BUDGET_S:
                n = max(MIN_CALLS, int(BUDGET_S / max(cost[s.name], 1e-9)))
            st = timeit(call(s, scenario), n, args=args, warmup=1, count=items)
            rows.append({
                **base,
                "p50_ms": round(st.p50_ms, 4), "p95_ms": round(st.p95_ms, 4), "p99_ms": round(st.p99_ms, 4),
                "items_per_s": round(st.items_per_s, 1),
                "mean_ms": round(st.mean_ms, 4), "min_ms": round(st.min_ms, 4), "max_ms": round(st.max_ms, 4),
                "n": st.n, "items_per_call": round(st.items / max(1, st.n), 1),
                "verified": not any(m.system == s.name for m in bad),
            })
            say(f"{scenario:17} {s.name:16} p50 {st.p50_ms:9.3f} ms  p95 {st.p95_ms:9.3f}  "
                f"{st.items / max(1, st.n):9.1f} items/call  n={st.n}")
    return rows, mismatches


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each scenario and size: baseline p50 / tracegraph p50 (> 1: tracegraph is faster)."""
    out = []
    keyed = {(r["scenario"], r["size"], r["system"]): r for r in rows}
    for (scenario, size, system), r in keyed.items():
        if system not in ("tracegraph", "tracegraph-full", "falkordb-cypher") or not r["p50_ms"]:
            continue
        for (sc2, sz2, other), r2 in keyed.items():
            if sc2 == scenario and sz2 == size and other != system and r2["p50_ms"]:
                out.append({"scenario": scenario, "size": size, "tracegraph": system, "baseline": other,
                            "speedup_p50": round(r2["p50_ms"] / r["p50_ms"], 2)})
    return out


def goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets from the brief, checked against the measured rows (honestly: missing = None)."""
    def p50(scenario: str, size: str, system: str) -> float | None:
        for r in rows:
            if r["scenario"] == scenario and r["size"] == size and r["system"] == system and r["p50_ms"] is not None:
                return float(r["p50_ms"])
        return None

    out: list[dict[str, Any]] = []
    sizes = sorted({r["size"] for r in rows})
    for tg in ("tracegraph", "tracegraph-full", "falkordb-cypher"):
        for size in sizes:
            v = p50("lot_impact", size, tg)
            if v is not None:
                out.append({"goal": f"lot impact p50 <= 1 ms ({size})", "system": tg, "value_ms": v, "met": v <= 1.0})
        for size in sizes:
            t = p50("supplier_impact", size, tg)
            if not t:
                continue
            for base, want in (("sqlite-cte", 5.0), ("networkx", 3.0), ("scipy-csr", 1 / 3.0)):
                b = p50("supplier_impact", size, base)
                if b is None:
                    continue
                ratio = b / t
                label = (f"supplier impact >= {want:g}x faster than {base} ({size})" if base != "scipy-csr"
                         else f"supplier impact within 3x of scipy-csr ({size})")
                out.append({"goal": label, "system": tg, "ratio": round(ratio, 2), "met": ratio >= want})
    return out


__all__ = ["SCENARIOS", "SYSTEMS", "parameters", "build_systems", "run", "ratios", "goals", "verify", "Mismatch"]
