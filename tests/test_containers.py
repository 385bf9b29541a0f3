"""Containment (issue 14.1): units shipped inside cases on a pallet ARE shipped, and impact names
every customer that holds them, now and "as of" every step (real embedded database).

The plant is three hand-written EPCIS 2.0 documents (tests/fixtures/epcis_containers/):
six units U1..U6 of batch LOT7 (made from resin lot R1) packed into cases A (U1-U3), B (U4, U5)
and C (U6), the cases onto pallet P, P shipped to distributor D (DA-1001, 01-11) and received
(01-12); D breaks P down (AggregationEvent DELETE, 01-13) and ships case A to hospital H1
(DA-2001) and case B to hospital H2 (DA-2002) on 01-14, both received 01-15; H2 destroys case B
(02-01). H1 takes U1 out of case A (02-04) and returns it (disposition returned, 02-05). U7 is
shipped loose to H1 (DA-1002), the control. Case C stays at D.
The expected answers below were written by hand from that story, not computed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.derive_killer import kill_in_derivation

from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.imports.runner import run_import
from tracegraph.engine.trace import index as trace_index
from tracegraph.engine.trace.impact import impact
from tracegraph.engine.trace.models import ImpactCause, ImpactOptions
from tracegraph.loaders.bundle import load_bundle
from tracegraph.loaders.epcis import import_epcis

FIX = Path(__file__).parent / "fixtures" / "epcis_containers"
ACTOR = Actor(id="u-qa", name="QA Importer", roles=frozenset({"qa"}))
G = "urn:epc:id:sgtin:0614141.107346."
U = {i: G + f"U{i}" for i in range(1, 8)}
RESIN = "urn:epc:class:lgtin:4012345.011111.R1"
CASE_A, CASE_B, CASE_C = ("urn:epc:id:sscc:0614141.1234567890", "urn:epc:id:sscc:0614141.1234567891",
                          "urn:epc:id:sscc:0614141.1234567892")
PALLET = "urn:epc:id:sscc:0614141.0000000001"
D, H1, H2 = "urn:epc:id:pgln:0614142.00000", "urn:epc:id:pgln:0614143.00000", "urn:epc:id:pgln:0614144.00000"
DA1001, DA1002 = "urn:epcglobal:cbv:bt:0614141000005:DA-1001", "urn:epcglobal:cbv:bt:0614141000005:DA-1002"
DA2001, DA2002 = "urn:epcglobal:cbv:bt:0614142000002:DA-2001", "urn:epcglobal:cbv:bt:0614142000002:DA-2002"


def load(store: Any, upto: int = 3) -> None:
    b = load_bundle(FIX / "parties")
    run_import(store, b.batch, ACTOR, source_files=b.files)
    for name in ("01_plant.jsonld", "02_distributor.jsonld", "03_hospitals.jsonld")[:upto]:
        import_epcis(store, FIX / name, ACTOR)


@pytest.fixture(scope="module")
def plant(store: Any) -> Any:
    load(store)
    yield store
    trace_index.disable(store)


def where(r: Any) -> dict[str, tuple[str, str | None]]:
    return {s.id: (s.status, s.customer) for s in r.serials}


#: where each unit is after each step, by hand. key: as-of date
STORY: dict[str, dict[int, tuple[str, str | None]]] = {
    "2026-01-09": {i: ("in_stock", None) for i in range(1, 8)},
    "2026-01-11": {**{i: ("in_transit", D) for i in range(1, 7)}, 7: ("in_transit", H1)},
    "2026-01-12": {**{i: ("at_distributor", D) for i in range(1, 7)}, 7: ("in_transit", H1)},
    "2026-01-13": {**{i: ("at_distributor", D) for i in range(1, 7)}, 7: ("in_transit", H1)},
    "2026-01-14": {1: ("in_transit", H1), 2: ("in_transit", H1), 3: ("in_transit", H1), 4: ("in_transit", H2),
                   5: ("in_transit", H2), 6: ("at_distributor", D), 7: ("in_transit", H1)},
    "2026-01-20": {1: ("at_end_user", H1), 2: ("at_end_user", H1), 3: ("at_end_user", H1),
                   4: ("at_end_user", H2), 5: ("at_end_user", H2), 6: ("at_distributor", D), 7: ("in_transit", H1)},
    "2026-02-02": {1: ("at_end_user", H1), 2: ("at_end_user", H1), 3: ("at_end_user", H1),
                   4: ("destroyed", H2), 5: ("destroyed", H2), 6: ("at_distributor", D), 7: ("in_transit", H1)},
    "2026-02-06": {1: ("returned", H1), 2: ("at_end_user", H1), 3: ("at_end_user", H1),
                   4: ("destroyed", H2), 5: ("destroyed", H2), 6: ("at_distributor", D), 7: ("in_transit", H1)},
}
NOW = STORY["2026-02-06"]


def test_units_shipped_in_containers_are_shipped_now(plant: Any) -> None:
    r = impact(plant, ImpactCause(lots=[RESIN]), engine="cypher")
    assert where(r) == {U[i]: v for i, v in NOW.items()}
    assert {c.id: c.units for c in r.customers} == {H1: 3.0, D: 1.0}  # H2's units were destroyed, U1 returned
    assert r.by_status == {"at_distributor": 1.0, "at_end_user": 2.0, "destroyed": 2.0, "in_transit": 1.0,
                           "returned": 1.0}


@pytest.mark.parametrize("as_of", sorted(STORY))
def test_as_of_follows_the_packing_state_at_that_date(plant: Any, as_of: str) -> None:
    r = impact(plant, ImpactCause(lots=[RESIN]), ImpactOptions(as_of=as_of), engine="cypher")
    assert where(r) == {U[i]: v for i, v in STORY[as_of].items()}


def test_the_shipment_that_carried_a_unit_names_its_container(plant: Any) -> None:
    r = impact(plant, ImpactCause(lots=[RESIN]), ImpactOptions(with_history=True), engine="cypher")
    by = {s.id: s for s in r.serials}
    assert (by[U[2]].shipment, by[U[2]].via, by[U[2]].container) == (DA2001, CASE_A, CASE_A)
    assert (by[U[1]].status, by[U[1]].via, by[U[1]].container) == ("returned", None, None)  # out of the case
    assert (by[U[6]].shipment, by[U[6]].via, by[U[6]].container) == (DA1001, PALLET, CASE_C)
    assert (by[U[4]].via, by[U[4]].status) == (CASE_B, "destroyed")
    assert (by[U[7]].shipment, by[U[7]].via, by[U[7]].container) == (DA1002, None, None)
    # every holder, in order: the distributor passed U1 on to H1; U7 was never received
    assert by[U[1]].holders == [D, H1] and by[U[4]].holders == [D, H2] and by[U[6]].holders == [D]
    assert by[U[7]].holders == []


def test_containers_are_listed_with_their_units_and_place(plant: Any) -> None:
    r = impact(plant, ImpactCause(lots=[RESIN]), engine="cypher")
    got = {c.id: (c.sscc, c.units, c.status, c.customer, c.parent) for c in r.containers}
    assert got == {
        CASE_A: (got[CASE_A][0], 2, "at_end_user", H1, None),
        CASE_B: (got[CASE_B][0], 2, "destroyed", H2, None),
        CASE_C: (got[CASE_C][0], 1, "at_distributor", D, None),
    }
    assert all(c.sscc and len(c.sscc) == 18 for c in r.containers)
    before = impact(plant, ImpactCause(lots=[RESIN]), ImpactOptions(as_of="2026-01-12"), engine="cypher")
    got = {c.id: (c.units, c.status, c.customer, c.parent) for c in before.containers}
    assert got == {PALLET: (6, "at_distributor", D, None), CASE_A: (3, "at_distributor", D, PALLET),
                   CASE_B: (2, "at_distributor", D, PALLET), CASE_C: (1, "at_distributor", D, PALLET)}


def test_both_engines_agree(plant: Any) -> None:
    trace_index.refresh(plant)
    for cause in (ImpactCause(lots=[RESIN]), ImpactCause(serials=[U[1], U[6]])):
        a = impact(plant, cause, engine="cypher").model_dump(exclude={"engine", "index_seq", "elapsed_ms"})
        b = impact(plant, cause, engine="index").model_dump(exclude={"engine", "index_seq", "elapsed_ms"})
        assert a == b


def test_before_the_distributor_documents_the_units_are_at_the_distributor_in_transit(empty_store: Any) -> None:
    load(empty_store, upto=1)
    r = impact(empty_store, ImpactCause(lots=[RESIN]), engine="cypher")
    assert where(r) == {**{U[i]: ("in_transit", D) for i in range(1, 7)}, U[7]: ("in_transit", H1)}


def test_reimport_is_idempotent(plant: Any) -> None:
    before = impact(plant, ImpactCause(lots=[RESIN]), ImpactOptions(with_history=True), engine="cypher")
    import_epcis(plant, FIX / "02_distributor.jsonld", ACTOR)
    after = impact(plant, ImpactCause(lots=[RESIN]), ImpactOptions(with_history=True), engine="cypher")
    assert where(after) == where(before)
    n = plant.run("MATCH (:Serial)-[x:SHIPPED_IN]->() WHERE x.via IS NOT NULL RETURN count(x) AS c", write=False)
    # U1-U3: DA-1001 (pallet), DA-2001 (case A); U4, U5: DA-1001, DA-2002; U6: DA-1001
    assert n[0]["c"] == 3 * 2 + 2 * 2 + 1


# --- the same story as an ERP bundle (tests/fixtures/bundle_containers/): containers.csv,
# packing.csv (cases onto pallet PAL-1 from 01-10 09:00 until the break-down at 01-13 08:00),
# shipment lines of item_kind container, a container returned as destroyed (RET-1) and one unit
# returned by H1 (RET-2, 02-05).
BUNDLE = Path(__file__).parent / "fixtures" / "bundle_containers"
B_STORY: dict[str, dict[str, tuple[str, str | None]]] = {
    "2026-01-09": {**{f"U{i}": ("in_stock", None) for i in range(1, 7)}, "U7": ("in_stock", None)},
    "2026-01-11T08:30:00Z": {**{f"U{i}": ("in_transit", "D") for i in range(1, 7)}, "U7": ("in_stock", None)},
    "2026-01-13": {**{f"U{i}": ("at_distributor", "D") for i in range(1, 7)}, "U7": ("in_transit", "H1")},
    "2026-01-14": {"U1": ("in_transit", "H1"), "U2": ("in_transit", "H1"), "U3": ("in_transit", "H1"),
                   "U4": ("in_transit", "H2"), "U5": ("in_transit", "H2"), "U6": ("at_distributor", "D"),
                   "U7": ("in_transit", "H1")},
    "2026-02-03": {"U1": ("at_end_user", "H1"), "U2": ("at_end_user", "H1"), "U3": ("at_end_user", "H1"),
                   "U4": ("destroyed", "H2"), "U5": ("destroyed", "H2"), "U6": ("at_distributor", "D"),
                   "U7": ("in_transit", "H1")},
    "2026-02-06": {"U1": ("at_end_user", "H1"), "U2": ("returned", "H1"), "U3": ("at_end_user", "H1"),
                   "U4": ("destroyed", "H2"), "U5": ("destroyed", "H2"), "U6": ("at_distributor", "D"),
                   "U7": ("in_transit", "H1")},
}


@pytest.fixture(scope="module")
def bundle_plant(embedded_server: Any) -> Any:
    import uuid

    from tracegraph.engine.stores.falkordb import FalkorDBStore

    s = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph="t_box_" + uuid.uuid4().hex[:8],
                      server=embedded_server)
    s.apply_schema()
    b = load_bundle(BUNDLE)
    run_import(s, b.batch, ACTOR, source_files=b.files)
    yield s
    trace_index.disable(s)
    s.drop_graph()
    s.close()


def test_bundle_units_follow_their_containers_now(bundle_plant: Any) -> None:
    r = impact(bundle_plant, ImpactCause(lots=["R1"]), engine="cypher")
    assert where(r) == B_STORY["2026-02-06"]
    assert {c.id: c.units for c in r.customers} == {"H1": 3.0, "D": 1.0}
    assert {c.id: (c.units, c.status, c.customer) for c in r.containers} == {
        "CASE-A": (3, "at_end_user", "H1"), "CASE-B": (2, "destroyed", "H2"), "CASE-C": (1, "at_distributor", "D")}
    assert {c.id: c.sscc for c in r.containers}["CASE-A"] == "006141411234567890"


@pytest.mark.parametrize("as_of", sorted(B_STORY))
def test_bundle_as_of(bundle_plant: Any, as_of: str) -> None:
    r = impact(bundle_plant, ImpactCause(supplier="SUP-ACME"), ImpactOptions(as_of=as_of), engine="cypher")
    assert where(r) == B_STORY[as_of]


def test_bundle_both_engines_agree(bundle_plant: Any) -> None:
    trace_index.refresh(bundle_plant)
    for cause in (ImpactCause(lots=["R1"]), ImpactCause(supplier="SUP-ACME"), ImpactCause(serials=["U2", "U6"])):
        a = impact(bundle_plant, cause, engine="cypher").model_dump(exclude={"engine", "index_seq", "elapsed_ms"})
        b = impact(bundle_plant, cause, engine="index").model_dump(exclude={"engine", "index_seq", "elapsed_ms"})
        assert a == b


def test_bundle_packing_problems_name_row_and_field(tmp_path: Path) -> None:
    import shutil

    from tracegraph.engine.errors import ValidationFailed

    d = tmp_path / "b"
    shutil.copytree(BUNDLE, d)
    with open(d / "packing.csv", "a", encoding="utf-8") as fh:
        fh.write("container,CASE-C,CASE-C,2026-01-10T09:00:00Z,\n")
        fh.write("serial,U1,CASE-A,2026-01-10T09:00:00Z,2026-01-09T09:00:00Z\n")
    with pytest.raises(ValidationFailed) as exc:
        load_bundle(d)
    got = {(p.source, p.record, p.field) for p in exc.value.problems}
    assert got == {("packing.csv", "row 11", "container_id"), ("packing.csv", "row 12", "unpacked_at")}


# --- late and repeated aggregation events, lots by quantity (inline EPCIS documents) ------------
def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
            "schemaVersion": "2.0", "creationDate": "2026-03-01T00:00:00Z", "epcisBody": {"eventList": list(events)}}


def _ev(etype: str, when: str, eid: str, **kw: Any) -> dict[str, Any]:
    return {"type": etype, "eventID": f"urn:uuid:7a2b0c00-0000-4000-8000-{eid:0>12}", "eventTime": when,
            "eventTimeZoneOffset": "+00:00", **kw}


def test_a_late_packing_event_re_derives_and_observe_changes_nothing(empty_store: Any) -> None:
    s = empty_store
    load(s, upto=0)  # the parties only
    case = "urn:epc:id:sscc:0614141.5555555550"
    units = [G + "L1", G + "L2"]
    ship = _ev("ObjectEvent", "2026-03-02T08:00:00Z", "1", epcList=[case], action="OBSERVE", bizStep="shipping",
               bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:DA-9"}],
               destinationList=[{"type": "owning_party", "destination": H1}])
    made = _ev("ObjectEvent", "2026-03-01T06:00:00Z", "2", epcList=units, action="ADD", bizStep="commissioning",
               ilmd={"cbvmda:lotNumber": "LOT9"})
    import_epcis(s, _doc(made, ship), ACTOR)
    r = impact(s, ImpactCause(serials=units), engine="cypher")
    assert {x.status for x in r.serials} == {"in_stock"}  # nothing known to be in the case yet
    pack = _ev("AggregationEvent", "2026-03-01T08:00:00Z", "3", parentID=case, childEPCs=units, action="ADD",
               bizStep="packing")
    import_epcis(s, _doc(pack), ACTOR)  # arrives later, happened before the shipment
    r = impact(s, ImpactCause(serials=units), ImpactOptions(with_history=True), engine="cypher")
    assert {(x.status, x.customer, x.via) for x in r.serials} == {("in_transit", H1, case)}
    observe = _ev("AggregationEvent", "2026-03-01T09:00:00Z", "4", parentID=case, childEPCs=units, action="OBSERVE",
                  bizStep="packing")
    import_epcis(s, _doc(observe), ACTOR)
    links = s.run("MATCH (:Serial)-[p:PACKED_IN]->(:Container {id: $k}) RETURN p.from AS f, p.to AS t", {"k": case},
                  write=False)
    assert [(x["f"][:16], x["t"]) for x in links] == [("2026-03-01T08:00", None)] * 2
    # unpacked before the shipment after all (a correction arriving late): the units were not shipped
    unpack = _ev("AggregationEvent", "2026-03-01T10:00:00Z", "5", parentID=case, childEPCs=units[:1],
                 action="DELETE", bizStep="unpacking")
    import_epcis(s, _doc(unpack), ACTOR)
    r = impact(s, ImpactCause(serials=units), engine="cypher")
    assert {x.id: (x.status, x.customer) for x in r.serials} == {units[0]: ("in_stock", None),
                                                                 units[1]: ("in_transit", H1)}


def test_a_lot_quantity_in_a_case_is_shipped_with_it(empty_store: Any) -> None:
    s = empty_store
    load(s, upto=0)
    case = "urn:epc:id:sscc:0614141.6666666660"
    lot = "urn:epc:class:lgtin:0614141.107346.NS1"
    made = _ev("ObjectEvent", "2026-03-01T06:00:00Z", "11", action="ADD", bizStep="commissioning",
               quantityList=[{"epcClass": lot, "quantity": 100, "uom": "EA"}])
    pack = _ev("AggregationEvent", "2026-03-01T08:00:00Z", "12", parentID=case, action="ADD", bizStep="packing",
               childQuantityList=[{"epcClass": lot, "quantity": 40, "uom": "EA"}])
    ship = _ev("ObjectEvent", "2026-03-02T08:00:00Z", "13", epcList=[case], action="OBSERVE", bizStep="shipping",
               bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:DA-8"}],
               destinationList=[{"type": "owning_party", "destination": D}])
    recv = _ev("ObjectEvent", "2026-03-03T08:00:00Z", "14", epcList=[case], action="OBSERVE", bizStep="receiving",
               bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:DA-8"}],
               destinationList=[{"type": "owning_party", "destination": D}])
    import_epcis(s, _doc(made, pack, ship, recv), ACTOR)
    s.run("MATCH (b:Batch {id: $id}) SET b.qty = 100.0", {"id": lot})  # the ERP's batch size
    r = impact(s, ImpactCause(batches=[lot]), engine="cypher")
    assert {(q.status, q.qty, q.customer) for q in r.quantities} == {("in_stock", 60.0, None),
                                                                    ("at_distributor", 40.0, D)}


def test_the_derivation_is_on_the_audit_chain_and_it_verifies(plant: Any) -> None:
    from tracegraph.engine.audit.verify import verify

    rows = plant.run("MATCH (e:AuditEntry) WHERE e.action = 'containment.derive' RETURN count(e) AS c", write=False)
    assert rows[0]["c"] >= 3  # one per EPCIS document that touched a container
    rep = verify(plant)
    assert rep.ok, rep.first_error


def test_the_regulator_sheet_names_container_carrier_and_holders(plant: Any, tmp_path: Path) -> None:
    import csv

    from tracegraph.engine.trace.reports import write_csv

    r = impact(plant, ImpactCause(lots=[RESIN]), ImpactOptions(with_history=True), engine="cypher")
    path = tmp_path / "units.csv"
    write_csv(r, path)
    with open(path, encoding="utf-8") as fh:
        rows = {row["serial"]: row for row in csv.DictReader(fh)}
    assert (rows[U[2]]["container"], rows[U[2]]["carried_by"], rows[U[2]]["holders"]) == (CASE_A, CASE_A, f"{D} > {H1}")
    assert (rows[U[2]]["reference_document"], rows[U[2]]["status"]) == (DA2001, "at_end_user")
    assert (rows[U[7]]["container"], rows[U[7]]["carried_by"]) == ("", "")


def test_derive_all_is_idempotent(plant: Any) -> None:
    """What a resumed run does (every container re-derived) changes nothing that was right."""
    from tracegraph.engine.imports import containment

    before = impact(plant, ImpactCause(lots=[RESIN]), ImpactOptions(with_history=True), engine="cypher")
    d = containment.derive_all(plant, ACTOR, import_id="test-rederive")
    # 6 units and the 3 cases (the pallet is inside nothing): 11 unit shipments + 3 cases via the pallet;
    # U4, U5 destroyed with case B
    assert (d.items, d.ships, d.returns, d.statuses) == (9, 14, 2, 0)
    after = impact(plant, ImpactCause(lots=[RESIN]), ImpactOptions(with_history=True), engine="cypher")
    assert after.model_dump(exclude={"elapsed_ms"}) == before.model_dump(exclude={"elapsed_ms"})


def test_the_cli_table_lists_the_containers(plant: Any) -> None:
    from tracegraph.cli import trace as cli_trace
    from tracegraph.cli.common import console

    r = impact(plant, ImpactCause(lots=[RESIN]), engine="cypher")
    width = console._width  # None: follow the terminal (restoring `console.width` would pin it for later tests)
    console.width = 240
    try:
        with console.capture() as cap:
            cli_trace._print_impact(r, 25)
    finally:
        console._width = width
    out = cap.get()
    assert "Containers holding affected units" in out
    row = next(line for line in out.splitlines() if CASE_C in line)
    assert "at_distributor" in row and D in row and "1" in row


def test_the_trace_index_holds_the_packing_and_follows_an_unpacking(empty_store: Any) -> None:
    """The index answers containers from its own packing (engine/trace/containers.py): it must say
    where each unit is packed now, and an audited unpacking must make it rebuild, never answer the
    old case."""
    s = empty_store
    load(s, upto=0)
    assert trace_index.refresh(s).packing is None  # no container in the plant: nothing to hold
    trace_index.disable(s)
    load(s)  # the parties again (unchanged) and the three documents
    trace_index.enable(s, "inline", wait=True)
    try:
        ix = trace_index.fresh(s)
        assert ix is not None and ix.packing is not None
        assert ix.packing.unit_chain(U[2]) == (CASE_A,) and ix.packing.unit_chain(U[1]) == ()
        cause = ImpactCause(lots=[RESIN])
        r = impact(s, cause, engine="index")
        assert {u.id: u.container for u in r.serials}[U[2]] == CASE_A
        out = _ev("AggregationEvent", "2026-02-10T09:00:00Z", "21", parentID=CASE_A, childEPCs=[U[2]],
                  action="DELETE", bizStep="unpacking")
        import_epcis(s, _doc(out), ACTOR)
        r = impact(s, cause, engine="index")
        assert r.engine == "index" and {u.id: u.container for u in r.serials}[U[2]] is None
        assert {c.id: c.unit_ids for c in r.containers}[CASE_A] == [U[3]]
        exclude = {"engine", "index_seq", "elapsed_ms"}
        assert r.model_dump(exclude=exclude) == impact(s, cause, engine="cypher").model_dump(exclude=exclude)
    finally:
        trace_index.disable(s)


# --- a crash between the import's commit and the derivation of its containers' contents -------

@pytest.mark.parametrize("finish", ["resume", "next-import"])
def test_a_crash_before_the_contents_are_derived_is_finished_by_recovery(fresh: Any, finish: str) -> None:
    """The run is not committed until its containers' contents follow them: killed in between,
    it stays `committing`, and recovery (resume, or the next import) derives every container, so
    the graph is the one an uninterrupted import gives and the chain verifies."""
    from tests.graph_snapshot import snapshot

    from tracegraph.engine.audit.verify import verify
    from tracegraph.engine.imports.runner import get_import, resume_import, unfinished_imports

    reference, crashed = fresh(), fresh()
    load(reference, upto=2)
    load(crashed, upto=1)
    run_id = kill_in_derivation(crashed, FIX / "02_distributor.jsonld")
    assert get_import(crashed, run_id).status == "committing"
    assert snapshot(crashed) != snapshot(reference)  # the log is applied, the contents are not yet
    if finish == "resume":
        assert resume_import(crashed, run_id, ACTOR).status == "committed"
    else:
        import_epcis(crashed, FIX / "03_hospitals.jsonld", ACTOR)
        import_epcis(reference, FIX / "03_hospitals.jsonld", ACTOR)
    assert get_import(crashed, run_id).status == "committed"
    assert unfinished_imports(crashed) == []
    assert snapshot(crashed) == snapshot(reference)
    cause = ImpactCause(lots=[RESIN])
    assert where(impact(crashed, cause, ImpactOptions())) == where(impact(reference, cause, ImpactOptions()))
    rep = verify(crashed)
    assert rep.ok, rep.problems[:5]


def test_containers_nested_four_deep_are_listed_with_their_chain_on_both_engines(empty_store: Any) -> None:
    """Units in a case, the case on a pallet, the pallet in an air cargo unit (ULD), the ULD in a
    sea container, the sea container shipped: every level is named with its parent, now and "as of"
    before the outer two were packed (the containers step reads the chain two levels a statement,
    so a fourth level is a second statement)."""
    s = empty_store
    load(s, upto=0)
    case, pallet, uld, sea = (f"urn:epc:id:sscc:0614141.777777777{i}" for i in range(4))
    units = [G + "N1", G + "N2", G + "N3"]
    made = _ev("ObjectEvent", "2026-03-01T06:00:00Z", "21", epcList=units, action="ADD", bizStep="commissioning",
               ilmd={"cbvmda:lotNumber": "LOT8"})
    packs = [_ev("AggregationEvent", f"2026-03-01T{7 + i:02d}:00:00Z", f"2{2 + i}", parentID=parent,
                 childEPCs=children, action="ADD", bizStep="packing")
             for i, (parent, children) in enumerate(((case, units[:2]), (pallet, [case, units[2]]), (uld, [pallet]),
                                                     (sea, [uld])))]
    ship = _ev("ObjectEvent", "2026-03-02T08:00:00Z", "26", epcList=[sea], action="OBSERVE", bizStep="shipping",
               bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:DA-7"}],
               destinationList=[{"type": "owning_party", "destination": D}])
    import_epcis(s, _doc(made, *packs, ship), ACTOR)
    want_units = {units[0]: case, units[1]: case, units[2]: pallet}
    want = {sea: (None, 3), uld: (sea, 3), pallet: (uld, 3), case: (pallet, 2)}
    answers = [impact(s, ImpactCause(serials=units), engine="cypher")]
    trace_index.refresh(s)
    try:
        answers.append(impact(s, ImpactCause(serials=units), engine="index"))
    finally:
        trace_index.disable(s)
    for r in answers:
        assert {x.id: (x.status, x.customer, x.container) for x in r.serials} == \
            {u: ("in_transit", D, k) for u, k in want_units.items()}
        assert [(c.id, c.parent, c.units) for c in r.containers] == \
            [(k, *want[k]) for k in (sea, uld, pallet, case)]  # outermost first
    # before the ULD and the sea container were packed: two levels, in stock
    r = impact(s, ImpactCause(serials=units), ImpactOptions(as_of="2026-03-01T08:30:00Z"), engine="cypher")
    assert {x.id: x.container for x in r.serials} == want_units
    assert [(c.id, c.parent, c.units) for c in r.containers] == [(pallet, None, 3), (case, pallet, 2)]
