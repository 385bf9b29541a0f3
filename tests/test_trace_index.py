"""The trace index (engine/trace/index.py, engine/trace/impact_index.py): same answers as the graph,
declines what it cannot answer, and is never used stale (real embedded database)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from plantbuilder import demo_plant
from tracegraph.engine import commands
from tracegraph.engine.access.auth import add_user, login
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import NotFound, ValidationFailed
from tracegraph.engine.trace import index as trace_index
from tracegraph.engine.trace.impact import impact, impact_frame
from tracegraph.engine.trace.models import FORWARD_EDGES, ImpactCause, ImpactOptions, ImpactResult

QA = Actor("qa.lead", "Quinn Lead", frozenset({"qa_manager", "admin"}))
CAUSES: list[dict[str, Any]] = [
    {"lots": ["L2"]}, {"lots": ["L9"]}, {"lots": ["L1a"]}, {"lots": ["L3", "L9"]},
    {"batches": ["FIN1"]}, {"batches": ["SUB1"]}, {"batches": ["FIN2", "OTHER"]}, {"batches": ["RW1"]},
    {"serials": ["SUB1-S0001"]}, {"serials": ["FIN1-S0003", "FIN2-S0002"]},
    {"supplier": "S2"}, {"equipment": "EQ1", "window_from": "2026-03-01", "window_to": "2026-03-31"},
    {"document": "DMR-1@2"}, {"serial_range": "FIN1:2-5"},
]
OPTIONS: list[dict[str, Any]] = [
    {}, {"include_returned": False}, {"max_depth": 1}, {"max_depth": 3}, {"edge_types": ["CONSUMED_IN", "PRODUCED"]},
    {"edge_types": ["COMPONENT_OF"]}, {"serial_limit": 2}, {"include_paths": False},
]


@pytest.fixture(scope="module")
def plant(store: Any) -> Any:
    demo_plant().write(store)
    trace_index.refresh(store)
    yield store
    trace_index.disable(store)


def comparable(r: ImpactResult) -> dict[str, Any]:
    """Everything but what legitimately differs: which engine, timing, and WHICH shortest path
    is shown when several exist (both must be as long as the depth says; the oracle test checks
    that every path is a real chain of edges from a seed)."""
    d = r.model_dump(mode="json", exclude={"engine", "index_seq", "elapsed_ms"})
    for part in ("serials", "batches", "lots", "quantities"):
        for item in d[part]:
            path = item.pop("path")
            item["path_len"] = len(path)
            item["path_end"] = path[-1:]
    return d


@pytest.mark.parametrize("cause,opts", list(itertools.product(CAUSES, OPTIONS)))
@pytest.mark.req("REQ-TRC-004")
def test_index_gives_the_graphs_answer(plant: Any, cause: dict[str, Any], opts: dict[str, Any]) -> None:
    c, o = ImpactCause(**cause), ImpactOptions(**opts)
    by_graph = impact(plant, c, o, engine="cypher")
    assert by_graph.engine == "cypher"
    by_index = impact(plant, c, o, engine="index")
    assert by_index.engine == "index" and by_index.index_seq == trace_index.head_seq(plant)
    assert comparable(by_index) == comparable(by_graph)


def test_frame_ids_and_totals_match_the_result(plant: Any) -> None:
    c = ImpactCause(batches=["FIN1", "FIN2"])
    fr = impact_frame(plant, c, ImpactOptions())
    assert fr is not None
    r = fr.result()
    assert sorted(fr.serial_ids()) == [s.id for s in r.serials]
    assert sorted(fr.customer_ids()) == sorted(x.id for x in r.customers)
    assert fr.counts() == r.counts


def test_declines_what_it_does_not_hold(plant: Any) -> None:
    # as-of needs the shipment history; NS1 (reached from L1) is non-serialised
    for cause, opts in (({"batches": ["FIN1"]}, {"as_of": "2026-02-15"}), ({"lots": ["L1"]}, {}),
                        ({"batches": ["FIN1"]}, {"with_history": True})):
        c, o = ImpactCause(**cause), ImpactOptions(**opts)
        assert impact_frame(plant, c, o) is None
        auto = impact(plant, c, o)
        assert auto.engine == "cypher"
        with pytest.raises(ValidationFailed, match="trace index cannot answer"):
            impact(plant, c, o, engine="index")


@pytest.mark.req("REQ-TRC-007")
def test_unknown_keys_are_refused_like_the_graph_does(plant: Any) -> None:
    for cause in ({"lots": ["NOPE"]}, {"batches": ["FIN1", "NOPE"]}, {"serials": ["NOPE"]}):
        for engine in ("cypher", "index"):
            with pytest.raises(NotFound, match="NOPE"):
                impact(plant, ImpactCause(**cause), engine=engine)  # type: ignore[arg-type]


def test_cycles_end_and_shared_inputs_count_once(plant: Any) -> None:
    ix = trace_index.fresh(plant)
    assert ix is not None
    fin1 = ix.node("Batch", "FIN1")
    allowed = np.ones(len(FORWARD_EDGES), bool)
    r = ix.reach(np.array([fin1, fin1]), allowed, None)  # FIN1 -> RW1 -> FIN1 loop
    assert len(set(r.nodes.tolist())) == len(r.nodes)
    assert {ix.key(n) for n in r.nodes if ix.label[n] == 1} == {"FIN1", "RW1"}
    assert r.depth[r.nodes.tolist().index(fin1)] == 0


@pytest.mark.req("REQ-TRC-004")
def test_an_audited_write_is_seen_by_the_next_query(empty_store: Any) -> None:
    demo_plant().write(empty_store)
    trace_index.refresh(empty_store)
    c = ImpactCause(batches=["FIN2"])
    before = impact(empty_store, c)
    assert before.engine == "index"
    assert {s.id: s.status for s in before.serials}["FIN2-S0002"] == "in_stock"
    st0 = trace_index.status(empty_store)
    # a property change: the index re-reads that one unit (a patch), no full build
    commands.set_status(empty_store, "Serial", "FIN2-S0002", "quarantined", QA, reason="suspect")
    after = impact(empty_store, c)
    assert after.engine == "index" and after.index_seq == trace_index.head_seq(empty_store)
    assert {s.id: s.status for s in after.serials}["FIN2-S0002"] == "quarantined"
    st1 = trace_index.status(empty_store)
    assert (st1.builds, st1.patches) == (st0.builds, st0.patches + 1)
    assert comparable(after) == comparable(impact(empty_store, c, engine="cypher"))
    # a customer's new contact shows at once (patch)
    commands.update(empty_store, "Customer", "H1", {"contact_email": "recalls@general.example"}, QA, reason="new desk")
    r = impact(empty_store, c)
    assert r.engine == "index" and {x.id: x.contact.email for x in r.customers}["H1"] == "recalls@general.example"
    assert trace_index.status(empty_store).builds == st0.builds
    # a new flow edge (audited link) is structure: a full build, and it reaches new units at once
    commands.link(empty_store, "MaterialLot", "L9", "CONSUMED_IN", "Batch", "FIN2", QA, reason="late entry")
    via_l9 = impact(empty_store, ImpactCause(lots=["L9"]))
    assert via_l9.engine == "index" and "FIN2" in {b.id for b in via_l9.batches}
    assert trace_index.status(empty_store).builds == st0.builds + 1
    assert comparable(via_l9) == comparable(impact(empty_store, ImpactCause(lots=["L9"]), engine="cypher"))
    # a new unit (audited create) is structure too: the index knows it at once
    commands.create(empty_store, "Serial", "FIN2-S0099", {"batch_id": "FIN2", "status": "in_stock"}, QA)
    assert impact(empty_store, ImpactCause(serials=["FIN2-S0099"])).engine == "index"
    assert trace_index.status(empty_store).builds == st0.builds + 2


def test_writes_about_other_records_do_not_cost_a_rebuild(empty_store: Any) -> None:
    demo_plant().write(empty_store)
    trace_index.refresh(empty_store)
    builds = trace_index.status(empty_store).builds
    add_user(empty_store, QA, "rita", "Rita Recall", "correct-horse-battery-9", ["recall_coordinator"])
    login(empty_store, "rita", "correct-horse-battery-9")
    r = impact(empty_store, ImpactCause(batches=["FIN2"]))
    assert r.engine == "index"
    st = trace_index.status(empty_store)
    assert st.builds == builds and st.fresh and st.seq == st.head


def test_background_mode_answers_from_the_graph_until_built(empty_store: Any) -> None:
    demo_plant().write(empty_store)
    trace_index.enable(empty_store, "background", wait=True, timeout_s=60)
    c = ImpactCause(batches=["FIN2"])
    assert impact(empty_store, c).engine == "index"
    # one changed unit: patched before answering, even in background mode
    commands.set_status(empty_store, "Serial", "FIN2-S0003", "quarantined", QA, reason="suspect")
    first = impact(empty_store, c)
    assert first.engine == "index" and {s.id: s.status for s in first.serials}["FIN2-S0003"] == "quarantined"
    # structure (a link): the graph answers while the build runs in the background
    commands.link(empty_store, "MaterialLot", "L9", "CONSUMED_IN", "Batch", "FIN2", QA, reason="late entry")
    second = impact(empty_store, ImpactCause(lots=["L9"]))
    assert "FIN2" in {b.id for b in second.batches}  # whichever engine answered, it is current
    trace_index._HOLDERS[empty_store].done.wait(60)
    again = impact(empty_store, ImpactCause(lots=["L9"]))
    assert again.engine == "index" and comparable(again) == comparable(second)
    trace_index.disable(empty_store)


def test_status_reports_size_and_freshness(plant: Any) -> None:
    st = trace_index.status(plant)
    assert st.enabled and st.fresh and st.nodes > 20 and st.edges > 20 and st.array_mb is not None
    assert trace_index.status(object()).enabled is False  # type: ignore[arg-type]
    assert trace_index.fresh(object()) is None  # type: ignore[arg-type]


def test_the_build_reads_every_flow_edge_the_graph_path_follows() -> None:
    """EDGE_QUERIES (one statement per label pair) covers exactly the label pairs the Cypher
    path follows, and every statement is a named query. The Cypher path: material edges leave
    any reached lot or batch, PRODUCED leaves batches, COMPONENT_OF leaves units; each type has
    one target label (impact.TARGET_LABEL)."""
    from tracegraph import queries
    from tracegraph.engine.trace.impact import TARGET_LABEL

    sources = {"PRODUCED": ("Batch",), "COMPONENT_OF": ("Serial",)}
    expected = {(src, t, dst) for t, dst in TARGET_LABEL.items() for src in sources.get(t, ("MaterialLot", "Batch"))}
    assert {(s, t, d) for _, s, t, d in trace_index.EDGE_QUERIES} == expected
    for name, src, t, dst in trace_index.EDGE_QUERIES:
        assert f"(a:{src})-[:{t}]->(b:{dst})" in queries.load(name)


def test_a_build_in_small_pages_is_the_same_index(plant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Big plants are read in pages (SKIP/LIMIT); pages of 3 rows give the same arrays."""
    whole = trace_index.build(plant)
    monkeypatch.setattr(trace_index, "PAGE_ROWS", 3)
    paged = trace_index.build(plant)
    for name in ("label", "rank", "indptr", "made_by", "b_ns", "nonserial"):
        assert np.array_equal(getattr(paged, name), getattr(whole, name)), name
    for name in ("st", "cu", "wh", "own_pr", "own_bt", "b_pr", "b_kind", "b_st"):  # codes may differ, words not
        assert paged.vocab[getattr(paged, name)].tolist() == whole.vocab[getattr(whole, name)].tolist(), name
    assert paged.vocab[paged.kcode].tolist() == whole.vocab[whole.kcode].tolist()
    # the same edges (order inside one node's list may differ)
    def edges(ix: Any) -> set[tuple[int, int, int]]:
        src = np.repeat(np.arange(ix.n_nodes), np.diff(ix.indptr))
        return set(zip(src.tolist(), ix.indices.tolist(), ix.etype.tolist()))
    assert edges(paged) == edges(whole) and paged.n_edges == whole.n_edges > 20


def test_a_recall_campaign_keeps_the_index_current_without_full_builds(empty_store: Any) -> None:
    """Snapshot, approval, start (quarantine of covered stock) and returns by scan: after every
    step the index answers exactly as the graph does, by re-reading the covered units only."""
    from test_recall_plant import APPROVER, AUTHOR, LOGISTICS, build, clock
    from tracegraph.engine.recall import campaign as R
    from tracegraph.engine.recall.returns import record_returns

    ids = build(empty_store)
    trace_index.refresh(empty_store)
    st0 = trace_index.status(empty_store)
    ck = clock()
    cause = ImpactCause(lots=["L1"])

    def check() -> dict[str, str]:
        r = impact(empty_store, cause, engine="index")
        assert comparable(r) == comparable(impact(empty_store, cause, engine="cypher"))
        return {s.id: s.status for s in r.serials}

    data = R.RecallCreate(jurisdiction="EU-MDR", recall_class="I", reason="resin lot L1", responsible="alice")
    rec = R.create_recall_from_cause(empty_store, AUTHOR, data, cause, clock=ck).recall
    check()
    ck.advance(hours=1)
    R.approve(empty_store, APPROVER, rec.id, password="pw", reason="hazard confirmed", clock=ck)
    check()
    R.start(empty_store, LOGISTICS, rec.id, clock=ck)  # quarantines the units still in our stock
    assert {check()[sid] for sid in ids["b1"][8:]} == {"quarantined"}
    record_returns(empty_store, LOGISTICS, rec.id, "D1", "returned", scans=ids["b1"][:3], clock=ck)
    assert {check()[sid] for sid in ids["b1"][:3]} == {"returned"}
    st = trace_index.status(empty_store)
    assert st.builds == st0.builds and st.patches >= 3 and st.fresh


# --- containers (issue 14.1): units reached through cases and pallets, on both engines --------
BOX_CAUSES: list[dict[str, Any]] = [
    {"lots": ["R1"]}, {"supplier": "SUP-ACME"}, {"batches": ["LOT7"]}, {"serials": ["U2", "U6"]},
    {"batches": ["LOT7"], "lots": ["R1"]},
]
BOX_OPTIONS: list[dict[str, Any]] = [{}, {"include_returned": False}, {"serial_limit": 3}, {"include_paths": False},
                                     {"max_depth": 1}]


@pytest.fixture(scope="module")
def box_plant(embedded_server: Any) -> Any:
    """The container story of tests/test_containers.py as an ERP bundle (pallet, cases, break-down
    at the distributor, onward shipments, a destroyed case, a returned unit)."""
    import uuid
    from pathlib import Path

    from tracegraph.engine.imports.runner import run_import
    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.loaders.bundle import load_bundle

    s = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph="t_ixbox_" + uuid.uuid4().hex[:8],
                      server=embedded_server)
    s.apply_schema()
    b = load_bundle(Path(__file__).parent / "fixtures" / "bundle_containers")
    run_import(s, b.batch, QA, source_files=b.files)
    trace_index.refresh(s)
    yield s
    trace_index.disable(s)
    s.drop_graph()
    s.close()


@pytest.mark.parametrize("cause,opts", list(itertools.product(BOX_CAUSES, BOX_OPTIONS)))
def test_index_gives_the_graphs_answer_through_containers(box_plant: Any, cause: dict[str, Any],
                                                          opts: dict[str, Any]) -> None:
    c, o = ImpactCause(**cause), ImpactOptions(**opts)
    by_graph = impact(box_plant, c, o, engine="cypher")
    by_index = impact(box_plant, c, o, engine="index")
    assert by_index.engine == "index"
    assert comparable(by_index) == comparable(by_graph)
    if not opts and "serials" not in cause:  # the warehouse view is part of what is compared
        assert {x.id for x in by_graph.containers} == {"CASE-A", "CASE-B", "CASE-C"}
