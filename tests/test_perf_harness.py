"""Smoke test of the benchmark harness on a tiny plant (2,000 serials): every system gives the
SAME answer for every scenario. No timing assertions (performance belongs in perf/)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("scipy")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # perf/ is a top-level folder of the repository, not installed
    sys.path.insert(0, str(ROOT))

from perf.harness import PlantHandle, Stats, plant, timeit, write_results  # noqa: E402
from perf.scenarios import SCENARIOS, SYSTEMS, build_systems, goals, parameters, verify  # noqa: E402


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlantHandle]:
    h = plant("XS", data_dir=tmp_path_factory.mktemp("perfdata"))
    try:
        yield h
    finally:
        h.close()


@pytest.fixture(scope="module")
def systems(handle: PlantHandle) -> list:
    return build_systems(handle, list(SYSTEMS), lambda _m: None)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_system_gives_the_same_answer(handle: PlantHandle, systems: list, scenario: str) -> None:
    args = parameters(handle, scenario, 3)
    assert args, "the plant should offer parameters for every scenario"
    mismatches, cost, failed = verify(systems, scenario, args)
    assert failed == {}, failed
    assert [m.to_dict() for m in mismatches] == []
    assert set(cost) == {s.name for s in systems}


def test_the_engine_systems_say_what_answered(handle: PlantHandle, systems: list) -> None:
    """The three tracegraph rows are three different paths: the index's frame, the full object
    contract from the index, the graph alone; the index rows record its build time."""
    names = {s.name: s for s in systems}
    assert {"tracegraph", "tracegraph-full", "tracegraph-cypher"} <= set(names)
    assert names["tracegraph"].index_build_s > 0 and names["tracegraph-cypher"].index_build_s is None
    lot = parameters(handle, "lot_impact", 1)[0][0]
    cause = names["tracegraph"].Cause(lots=[lot])
    assert names["tracegraph-full"]._impact(handle.store, cause, engine="index").engine == "index"
    assert names["tracegraph-cypher"]._impact(handle.store, cause, engine="cypher").engine == "cypher"


def test_answers_are_not_trivially_empty(handle: PlantHandle, systems: list) -> None:
    """A mismatch check over empty answers would prove nothing: the lot traces reach units."""
    scipy_sys = next(s for s in systems if s.name == "scipy-csr")
    reached = [len(scipy_sys.lot_impact(a[0])["serials"]) for a in parameters(handle, "lot_impact", 10)]
    assert max(reached) > 0
    sup = scipy_sys.supplier_impact(parameters(handle, "supplier_impact", 1)[0][0])
    assert sup["serials"] and sup["customers"]
    back = scipy_sys.backward(parameters(handle, "backward_trace", 1)[0][0])
    assert any(k.startswith("LOT-") for k in back["ancestors"])
    assert any(k.startswith("SUP-") for k in back["ancestors"])


def test_a_wrong_answer_is_reported(handle: PlantHandle, systems: list) -> None:
    class Liar:
        name = "liar"

        def lot_impact(self, lot_id: str) -> dict[str, list[str]]:
            return {"serials": ["SN-nope"], "customers": []}

    mismatches, _, _ = verify([systems[-1], Liar()], "lot_impact", parameters(handle, "lot_impact", 1))  # type: ignore[list-item]
    assert len(mismatches) == 1 and mismatches[0].system == "liar"
    assert mismatches[0].example["serials_extra"] == ["SN-nope"]


def test_timeit_and_results_file(tmp_path: Path) -> None:
    calls: list[int] = []
    st = timeit(lambda x: calls.append(x) or [x, x], 7, args=[(1,), (2,)], warmup=1)
    assert isinstance(st, Stats) and st.n == 7 and len(calls) == 8
    assert st.items == 14 and st.min_ms <= st.p50_ms <= st.p95_ms <= st.p99_ms <= st.max_ms
    row = {"scenario": "lot_impact", "system": "tracegraph", "size": "XS", **st.row()}
    path = write_results("perf-XS", [row], {"note": "test"}, results_dir=tmp_path)
    doc = json.loads(path.read_text())
    assert doc["rows"][0]["p50_ms"] == row["p50_ms"]
    assert doc["meta"]["machine"]["cores"] >= 1 and doc["meta"]["note"] == "test"


def test_goals_are_checked_honestly() -> None:
    rows = [
        {"scenario": "lot_impact", "system": "tracegraph", "size": "M", "p50_ms": 2.0},
        {"scenario": "supplier_impact", "system": "tracegraph", "size": "M", "p50_ms": 10.0},
        {"scenario": "supplier_impact", "system": "sqlite-cte", "size": "M", "p50_ms": 100.0},
        {"scenario": "supplier_impact", "system": "scipy-csr", "size": "M", "p50_ms": 2.0},
    ]
    by_goal = {g["goal"]: g["met"] for g in goals(rows) if g["system"] == "tracegraph"}
    assert by_goal["lot impact p50 <= 1 ms (M)"] is False
    assert by_goal["supplier impact >= 5x faster than sqlite-cte (M)"] is True
    assert by_goal["supplier impact within 3x of scipy-csr (M)"] is False


def test_baselines_agree_on_the_product_generator_plant(tmp_path: Path) -> None:
    """tracegraph's own generator (rework cycles, merges, lots without supplier, batch shipments)
    converted to arrays: the four in-memory/SQLite baselines still give one answer."""
    from perf.baselines.networkx_bfs import NetworkxBFS
    from perf.baselines.scipy_csr import ScipyCSR
    from perf.baselines.sqlite_cte import SqliteCTE
    from perf.baselines.sqlite_cte import build as build_cte
    from perf.baselines.sqlite_erp import SqliteERP
    from perf.baselines.sqlite_erp import build as build_erp
    from perf.plants import from_import_batch
    from tracegraph.loaders.generator import generate_plant

    batch = generate_plant(300, seed=3)
    p = from_import_batch(batch, 300, 3)
    assert p.n_serials == 300 and len(p.block("Serial")) == len(batch.serials)
    assert len(p.edges["CONSUMED_IN"][0]) == len(batch.consumptions)
    build_cte(p, tmp_path / "cte.sqlite")
    build_erp(p, tmp_path / "erp.sqlite")
    systems = [ScipyCSR(p), NetworkxBFS(p), SqliteCTE(tmp_path / "cte.sqlite"), SqliteERP(tmp_path / "erp.sqlite")]

    class H:  # the part of PlantHandle that `parameters` reads
        plant = p

    for scenario in SCENARIOS:
        mismatches, _, failed = verify(systems, scenario, parameters(H, scenario, 3))  # type: ignore[arg-type]
        assert failed == {} and [m.to_dict() for m in mismatches] == [], scenario
    for s in systems:
        s.close()
