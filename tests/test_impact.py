"""Forward trace / impact analysis on the hand-made demo plant (tests/plantbuilder.py), real DB."""

from __future__ import annotations

import pytest

from plantbuilder import demo_plant
from tracegraph.engine.errors import NotFound, ValidationFailed
from tracegraph.engine.trace import index as trace_index
from tracegraph.engine.trace.impact import forward_trace, impact
from tracegraph.engine.trace.models import HELD_STATUSES, ImpactCause, ImpactOptions, ImpactResult


@pytest.fixture(scope="module")
def written_store(store):
    demo_plant().write(store)
    return store


@pytest.fixture(scope="module", params=["cypher", "index"])
def plant_store(written_store, request):
    """Every test runs twice: answered by the graph, and with a trace index kept (which answers
    what it can and hands the rest to the graph: the contract is the same either way)."""
    if request.param == "index":
        trace_index.refresh(written_store)
    yield written_store
    trace_index.disable(written_store)


def run(store, opts: dict | None = None, **cause) -> ImpactResult:
    r = impact(store, ImpactCause(**cause), ImpactOptions(**(opts or {})))
    check_invariants(r)
    return r


def check_invariants(r: ImpactResult) -> None:
    """Quantities add up, whatever the question."""
    assert sum(r.by_status.values()) == pytest.approx(r.counts["units"])
    assert sum(c.units for c in r.customers) == pytest.approx(r.counts["units_at_customers"])
    held = sum(1 for s in r.serials if s.status in HELD_STATUSES and s.customer) + sum(
        q.qty for q in r.quantities if q.status in HELD_STATUSES and q.customer)
    if not r.truncated:
        assert held == pytest.approx(r.counts["units_at_customers"])
        assert len(r.serials) == r.counts["serials"]
        assert len({s.id for s in r.serials}) == len(r.serials)  # shared inputs counted once
        assert len(r.serials) + sum(q.qty for q in r.quantities) == pytest.approx(r.counts["units"])
    for c in r.customers:
        assert sum(c.by_status.values()) == pytest.approx(c.units)
    assert sum(p.units for p in r.by_product) == pytest.approx(r.counts["units"])
    for s in r.serials:
        assert s.path and s.path[-1] == s.id


def status_of(r: ImpactResult) -> dict[str, str]:
    return {s.id: s.status for s in r.serials}


def ids(items) -> set[str]:
    return {x.id for x in items}


@pytest.mark.req("REQ-TRC-002")
def test_lot_impact_reaches_every_shape(plant_store):
    r = run(plant_store, lots=["L1"])
    assert ids(r.lots) == {"L1", "L1a", "L1b", "L3"}  # split, then merge
    assert ids(r.batches) == {"SUB1", "FIN1", "RW1", "NS1"}  # subassembly, rework loop, non-serialised
    assert {s.id for s in r.serials} == {f"FIN1-S000{i}" for i in range(1, 9)} | {"SUB1-S0001", "SUB1-S0002"}
    st = status_of(r)
    assert st["FIN1-S0001"] == "at_distributor"
    assert st["FIN1-S0003"] == "at_end_user"
    assert st["FIN1-S0004"] == "in_transit"
    assert st["FIN1-S0005"] == "returned"
    assert st["FIN1-S0006"] == "destroyed"
    assert st["FIN1-S0007"] == "quarantined"
    assert st["FIN1-S0008"] == "in_stock"
    assert st["SUB1-S0001"] == "consumed"
    # every classification appears exactly as counted
    for status in ("at_distributor", "at_end_user", "in_transit", "returned", "destroyed", "quarantined",
                   "in_stock", "consumed"):
        assert r.by_status[status] > 0
    wh = {s.id: s.warehouse for s in r.serials}
    assert wh["FIN1-S0008"] == "WH1" and wh["FIN1-S0001"] is None


@pytest.mark.req("REQ-TRC-002")
def test_customers_contacts_and_totals(plant_store):
    r = run(plant_store, lots=["L1"])
    cust = {c.id: c for c in r.customers}
    # D1: 2 serials + 40 of NS1 (60 shipped, 20 transferred on to H2)
    assert cust["D1"].units == 42 and cust["D1"].kind == "distributor"
    assert cust["D1"].by_status == {"at_distributor": 42}
    assert cust["H1"].units == 1  # FIN1-S0003 via transfer D1 -> H1
    assert cust["H2"].units == 21  # FIN1-S0004 in transit + 20 of NS1
    assert cust["H2"].by_status == {"in_transit": 1, "at_end_user": 20}
    assert cust["H1"].contact.email == "recall@h1.example" and cust["H1"].name == "General Hospital"
    prods = {p.id: p.units for p in r.by_product}
    assert prods == {"P1": 8, "P3": 100, "P-SUB": 2}  # the rework batch adds no quantity


def test_non_serialised_batch_quantities(plant_store):
    r = run(plant_store, batches=["NS1"])
    rows = {(q.status, q.customer): q.qty for q in r.quantities}
    assert rows == {("in_stock", None): 40, ("at_distributor", "D1"): 40, ("at_end_user", "H2"): 20}
    assert r.counts["units"] == 100 and r.counts["serials"] == 0
    assert [b.serialised for b in r.batches] == [False]
    ship = {q.customer: q.shipment for q in r.quantities}
    assert ship["H2"] == "SH8"


@pytest.mark.req("REQ-TRC-003")
def test_lot_set_and_shared_inputs_counted_once(plant_store):
    r = run(plant_store, lots=["L2", "L9", "L3"])
    assert ids(r.batches) == {"FIN1", "FIN2", "OTHER", "RW1"}
    assert len([s for s in r.serials if s.batch == "FIN1"]) == 8
    assert ids(r.lots) == {"L2", "L9", "L3"}


@pytest.mark.req("REQ-TRC-002")
def test_supplier_with_receipt_window(plant_store):
    everything = run(plant_store, supplier="S1")
    assert ids(everything.lots) >= {"L1", "L2", "L3"}
    assert {b.id for b in everything.batches} == {"SUB1", "FIN1", "RW1", "NS1", "FIN2"}
    assert everything.lots[0].path[0] == "S1"
    march = run(plant_store, supplier="S1", supplied_from="2026-03-01", supplied_to="2026-03-31")
    assert ids(march.lots) == {"L2", "L3"}
    assert ids(march.batches) == {"FIN1", "FIN2", "RW1"}
    fin2 = next(b for b in march.batches if b.id == "FIN2")
    assert fin2.path == ["S1", "L2", "FIN2"]
    none = run(plant_store, supplier="S1", supplied_from="2027-01-01")
    assert none.counts["units"] == 0 and none.batches == []
    with pytest.raises(NotFound):
        run(plant_store, supplier="NOPE")


@pytest.mark.req("REQ-TRC-002")
def test_equipment_window_overlap(plant_store):
    feb = run(plant_store, equipment="EQ1", window_from="2026-02-01T10:00:00Z", window_to="2026-02-01T11:00:00Z")
    assert ids(feb.batches) == {"FIN1", "RW1"}  # RW1 through the rework loop
    assert next(b for b in feb.batches if b.id == "FIN1").path == ["EQ1", "FIN1"]
    day = run(plant_store, equipment="EQ1", window_from="2026-03-10", window_to="2026-03-10")
    assert ids(day.batches) == {"FIN2"}
    both = run(plant_store, equipment="EQ1")
    assert ids(both.batches) == {"FIN1", "FIN2", "RW1"}
    gap = run(plant_store, equipment="EQ1", window_from="2026-02-02", window_to="2026-03-09")
    assert gap.batches == []


@pytest.mark.req("REQ-TRC-003")
def test_batch_cycle_terminates_and_counts_once(plant_store):
    r = run(plant_store, batches=["FIN1"])
    assert ids(r.batches) == {"FIN1", "RW1"}
    assert r.counts["serials"] == 8
    rw = next(b for b in r.batches if b.id == "RW1")
    assert rw.path == ["FIN1", "RW1"] and rw.depth == 1


@pytest.mark.req("REQ-TRC-002")
def test_document_version(plant_store):
    v1 = run(plant_store, document="DMR-1@1")
    assert ids(v1.batches) == {"FIN1", "RW1"}
    assert next(b for b in v1.batches if b.id == "FIN1").path == ["DMR-1@1", "FIN1"]
    v2 = run(plant_store, document="DMR-1@2")
    assert ids(v2.batches) == {"FIN2"}
    with pytest.raises(NotFound):
        run(plant_store, document="DMR-1@9")


@pytest.mark.req("REQ-TRC-002")
def test_serial_range_by_gtin_and_by_batch(plant_store):
    r = run(plant_store, serial_range="P1:0002-0004")
    assert {s.id for s in r.serials} == {"FIN1-S0002", "FIN1-S0003", "FIN1-S0004"}
    r = run(plant_store, serial_range="FIN1:7-8")  # numeric compare of 0007, 0008
    assert {s.id for s in r.serials} == {"FIN1-S0007", "FIN1-S0008"}
    with pytest.raises(ValidationFailed):
        ImpactCause(serial_range="no-colon-here")


@pytest.mark.req("REQ-TRC-002")
def test_component_reaches_its_assembly(plant_store):
    r = run(plant_store, serials=["SUB1-S0001"])
    assert {s.id for s in r.serials} == {"SUB1-S0001", "FIN1-S0001"}
    asm = next(s for s in r.serials if s.id == "FIN1-S0001")
    assert asm.path == ["SUB1-S0001", "FIN1-S0001"]
    assert asm.status == "at_distributor" and asm.customer == "D1"


@pytest.mark.req("REQ-TRC-005")
def test_as_of_uses_shipment_history(plant_store):
    def at(day: str) -> dict[str, tuple[str, str | None]]:
        r = run(plant_store, {"as_of": day}, batches=["FIN1"])
        return {s.id: (s.status, s.customer) for s in r.serials}

    assert at("2026-02-11")["FIN1-S0001"] == ("in_transit", "D1")
    assert at("2026-02-12")["FIN1-S0001"] == ("at_distributor", "D1")  # delivered that day
    assert at("2026-02-15")["FIN1-S0003"] == ("at_distributor", "D1")
    assert at("2026-02-21")["FIN1-S0003"] == ("at_end_user", "H1")  # after the transfer
    assert at("2026-02-24")["FIN1-S0004"] == ("in_stock", None)
    assert at("2026-02-26")["FIN1-S0004"] == ("in_transit", "H2")
    assert at("2026-02-20")["FIN1-S0005"] == ("at_end_user", "H2")
    assert at("2026-03-01")["FIN1-S0005"][0] == "returned"
    assert at("2026-03-01")["FIN1-S0006"][0] == "destroyed"
    assert at("2026-01-01")["FIN1-S0001"] == ("in_stock", None)
    comp = run(plant_store, {"as_of": "2026-03-01"}, batches=["SUB1"])
    assert status_of(comp)["SUB1-S0001"] == "consumed"
    ns = run(plant_store, {"as_of": "2026-02-17"}, batches=["NS1"])
    assert {(q.status, q.customer): q.qty for q in ns.quantities} == {
        ("in_stock", None): 40, ("at_distributor", "D1"): 60}
    ns = run(plant_store, {"as_of": "2026-02-21"}, batches=["NS1"])
    assert {(q.status, q.customer): q.qty for q in ns.quantities} == {
        ("in_stock", None): 40, ("at_distributor", "D1"): 40, ("in_transit", "H2"): 20}


def test_exclude_returned(plant_store):
    r = run(plant_store, {"include_returned": False}, batches=["FIN1"])
    assert "FIN1-S0005" not in status_of(r) and "FIN1-S0006" not in status_of(r)
    assert "returned" not in r.by_status and "destroyed" not in r.by_status
    assert r.counts["serials"] == 6


def test_max_depth_and_edge_types(plant_store):
    r = run(plant_store, {"max_depth": 1}, lots=["L1"])
    assert ids(r.lots) == {"L1", "L1a", "L1b"} and ids(r.batches) == {"NS1"}
    assert r.serials == []
    r = run(plant_store, {"max_depth": 0}, lots=["L1"])
    assert ids(r.lots) == {"L1"} and r.counts["units"] == 0
    r = run(plant_store, {"edge_types": ["CONSUMED_IN", "PRODUCED"]}, lots=["L1"])
    assert ids(r.lots) == {"L1"} and ids(r.batches) == {"NS1"}
    r = run(plant_store, {"edge_types": ["SPLIT_INTO", "CONSUMED_IN"]}, lots=["L1"])
    assert ids(r.lots) == {"L1", "L1a", "L1b"} and ids(r.batches) == {"NS1", "SUB1", "FIN1", "RW1"}
    assert r.serials == []
    with pytest.raises(ValueError):
        ImpactOptions(edge_types=["SHIPPED_IN"])


@pytest.mark.req("REQ-TRC-005")
def test_history_gives_shipment_refs(plant_store):
    plain = {s.id: s for s in run(plant_store, batches=["FIN1"]).serials}
    assert plain["FIN1-S0003"].shipment is None  # the fast default skips the history
    hist = {s.id: s for s in run(plant_store, {"with_history": True}, batches=["FIN1"]).serials}
    assert (hist["FIN1-S0003"].shipment, hist["FIN1-S0003"].date) == ("SH2", "2026-02-20")
    assert hist["FIN1-S0003"].status == plain["FIN1-S0003"].status == "at_end_user"


def test_serial_limit_keeps_counts(plant_store):
    r = impact(plant_store, ImpactCause(batches=["FIN1"]), ImpactOptions(serial_limit=3, include_paths=False))
    assert len(r.serials) == 3 and r.truncated and r.counts["serials"] == 8
    assert all(s.path == [] for s in r.serials)


@pytest.mark.req("REQ-TRC-007")
def test_errors(plant_store):
    with pytest.raises(NotFound) as e:
        run(plant_store, lots=["L1", "NO-SUCH-LOT"])
    assert "NO-SUCH-LOT" in str(e.value)
    with pytest.raises(ValidationFailed):
        run(plant_store)


def test_forward_trace_by_key(plant_store):
    r = forward_trace(plant_store, "L1a")
    assert ids(r.batches) == {"SUB1", "FIN1", "RW1"}
    r = forward_trace(plant_store, "FIN2-S0001")
    assert [s.id for s in r.serials] == ["FIN2-S0001"]
    with pytest.raises(NotFound):
        forward_trace(plant_store, "nothing-like-this")


def test_json_contract(plant_store):
    r = run(plant_store, lots=["L1"]).model_dump(mode="json")
    for key in ("query", "counts", "batches", "serials", "customers", "elapsed_ms", "by_status", "by_product",
                "lots", "quantities"):
        assert key in r
    assert isinstance(r["elapsed_ms"], float)
    assert r["query"]["cause"] == {"lots": ["L1"]}
    for k in ("lots", "batches", "serials", "units", "customers", "units_at_customers"):
        assert isinstance(r["counts"][k], (int, float))
    s = r["serials"][0]
    for k, t in (("id", str), ("batch", str), ("status", str), ("path", list)):
        assert isinstance(s[k], t)
    assert "customer" in s
    c = r["customers"][0]
    assert isinstance(c["id"], str) and isinstance(c["units"], (int, float)) and isinstance(c["contact"], dict)
    assert "name" in c and "email" in c["contact"]
