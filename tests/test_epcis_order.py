"""Order-independent capture (issue 16 item 4): what a lot is comes from what the events say about
it, so one document, one event per import in document order, and one event per import in reverse
or shuffled order all give the same graph (node kinds, properties, edges) and the same impact of
the supplier's resin lot, through the loader functions, the REST capture endpoint and EPCIS XML.

The events are written here by hand from EPCIS 2.0 / CBV 2.0: a resin lot received from a supplier,
a sub-assembly moulded from it, a finished-goods batch with serials made from the resin and the
sub-assembly, a shipment of two of the units to a customer, and a film lot first seen at an
inspection (no word of what it is) and later received from the supplier. Each order forces the
cases the rule must get right: a receipt stored first (MaterialLot, its consumption agrees), a
consumption stored first, a sub-assembly consumed before its production arrives (stored as a
MaterialLot, re-kinded to a Batch), a lot first stored as a Batch for want of evidence and then
received from a supplier (re-kinded to a MaterialLot)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from api_support import ADMIN, PASSWORD, Api, role_user
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.errors import Conflict
from tracegraph.engine.qms import DEVIATION, open_record
from tracegraph.engine.trace.impact import impact
from tracegraph.engine.trace.models import ImpactCause
from tracegraph.loaders.epcis import import_epcis
from tracegraph.loaders.epcis_map import decide_kind, lot_votes
from tracegraph.loaders.epcis_xml_out import document_to_xml

CTX = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
ACTOR = Actor(id="u-qa", name="QA Importer", roles=frozenset({"qa"}))
RESIN = "urn:epc:class:lgtin:4012345.011111.R-778"       # the supplier's resin lot
FILM = "urn:epc:class:lgtin:4012345.022222.F-31"         # the supplier's film lot, inspected first
SUBASSY = "urn:epc:class:lgtin:0614141.107340.SA-9"      # our moulded sub-assembly lot
FG_LOT = "urn:epc:class:lgtin:0614141.107346.FG-1"       # our finished-goods batch (ILMD lot of the units)
UNIT = "urn:epc:id:sgtin:0614141.107346."
SUPPLIER, US, CUSTOMER = "urn:epc:id:pgln:4012345.00000", "urn:epc:id:pgln:0614141.00000", "urn:epc:id:pgln:0614142.00000"
PLANT = "urn:epc:id:sgln:0614141.00001.0"
DESADV = "urn:epcglobal:cbv:bt:0614141000005:DA-1"
META = {"created_at", "updated_at", "source", "import_id", "last_import_id", "sealed_seq"}  # sealed_seq: which entry
LABELS = ("Batch", "MaterialLot", "Material", "Product", "Serial", "Shipment", "Customer", "Location",
          "BusinessTransaction", "EpcisEvent", "Container", "Return")


def _ev(t: str, when: str, n: int, **kw: Any) -> dict[str, Any]:
    return {"type": t, "eventID": f"urn:uuid:6a1c0000-0000-4000-8000-{n:012d}", "eventTime": when,
            "eventTimeZoneOffset": "+00:00", **kw}


EVENTS: list[dict[str, Any]] = [
    _ev("ObjectEvent", "2026-01-30T08:00:00Z", 1, action="OBSERVE", bizStep="inspecting",
        quantityList=[{"epcClass": FILM, "quantity": 5, "uom": "KGM"}], bizLocation={"id": PLANT}),
    _ev("ObjectEvent", "2026-02-01T08:00:00Z", 2, action="OBSERVE", bizStep="receiving", disposition="in_progress",
        quantityList=[{"epcClass": RESIN, "quantity": 500, "uom": "KGM"}, {"epcClass": FILM, "quantity": 5, "uom": "KGM"}],
        bizTransactionList=[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:PO-77"}],
        sourceList=[{"type": "owning_party", "source": SUPPLIER}],
        destinationList=[{"type": "owning_party", "destination": US}], bizLocation={"id": PLANT}),
    _ev("TransformationEvent", "2026-02-02T08:00:00Z", 3, bizStep="commissioning", disposition="active",
        inputQuantityList=[{"epcClass": RESIN, "quantity": 5, "uom": "KGM"}],
        outputQuantityList=[{"epcClass": SUBASSY, "quantity": 10}], bizLocation={"id": PLANT}),
    _ev("TransformationEvent", "2026-02-03T08:00:00Z", 4, bizStep="commissioning", disposition="active",
        inputQuantityList=[{"epcClass": RESIN, "quantity": 25, "uom": "KGM"}, {"epcClass": SUBASSY, "quantity": 3},
                           {"epcClass": FILM, "quantity": 1, "uom": "KGM"}],
        outputEPCList=[UNIT + "S1", UNIT + "S2", UNIT + "S3"], bizLocation={"id": PLANT},
        ilmd={"cbvmda:lotNumber": "FG-1", "cbvmda:itemExpirationDate": "2028-02-28"}),
    _ev("ObjectEvent", "2026-02-05T08:00:00Z", 5, action="OBSERVE", bizStep="shipping", disposition="in_transit",
        epcList=[UNIT + "S1", UNIT + "S2"], bizTransactionList=[{"type": "desadv", "bizTransaction": DESADV}],
        sourceList=[{"type": "owning_party", "source": US}],
        destinationList=[{"type": "owning_party", "destination": CUSTOMER}]),
    # the customer's receipt closing that shipment, and one of the two units destroyed there: the
    # state of a unit (status, holder) is the one of the event that happened last, so capturing the
    # receipt before the shipment must still leave S1 at the distributor (epcis_state.py)
    _ev("ObjectEvent", "2026-02-07T08:00:00Z", 6, action="OBSERVE", bizStep="receiving", disposition="in_progress",
        epcList=[UNIT + "S1", UNIT + "S2"], bizTransactionList=[{"type": "desadv", "bizTransaction": DESADV}],
        sourceList=[{"type": "owning_party", "source": US}],
        destinationList=[{"type": "owning_party", "destination": CUSTOMER}]),
    _ev("ObjectEvent", "2026-02-09T08:00:00Z", 7, action="DELETE", bizStep="decommissioning", epcList=[UNIT + "S2"]),
]

N = len(EVENTS)
ORDERS = [tuple(range(N)), tuple(reversed(range(N)))] + [tuple(random.Random(seed).sample(range(N), N))
                                                        for seed in (1, 2, 3, 4)]


def doc(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-01T00:00:00Z",
            "epcisBody": {"eventList": events}}


def snapshot(store: Any, *, capture_time: bool = True) -> tuple[set[Any], set[Any]]:
    """Every node the EPCIS mapping writes (label, properties) and every edge between them.
    Without `capture_time`, an event's recordTime is left out: the REST binding sets it to the
    moment of capture (EPCIS 2.0 section 7.4.1), which differs by definition between requests."""
    def frozen(d: dict[str, Any] | None) -> tuple[Any, ...]:
        return _frozen(d, capture_time)

    nodes = store.run("MATCH (n) WHERE labels(n)[0] IN $l RETURN labels(n)[0] AS l, properties(n) AS p",
                      {"l": list(LABELS)}, write=False)
    edges = store.run("MATCH (a)-[r]->(b) WHERE labels(a)[0] IN $l AND labels(b)[0] IN $l RETURN type(r) AS t, "
                      "labels(a)[0] AS al, a.id AS a, labels(b)[0] AS bl, b.id AS b, properties(r) AS p",
                      {"l": list(LABELS)}, write=False)
    return ({(r["l"], frozen(r["p"])) for r in nodes},
            {(r["t"], r["al"], r["a"], r["bl"], r["b"], frozen(r["p"])) for r in edges})


def _frozen(d: dict[str, Any] | None, capture_time: bool = True) -> tuple[Any, ...]:
    d = dict(d or {})
    if not capture_time and "json" in d and "event_time" in d:  # an EpcisEvent
        d.pop("record_time", None)
        d["json"] = json.dumps({k: v for k, v in json.loads(d["json"]).items() if k != "recordTime"}, sort_keys=True)
    return tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in d.items() if k not in META))


def snapshot_without_capture_time(snap: tuple[set[Any], set[Any]]) -> tuple[set[Any], set[Any]]:
    """A snapshot as `snapshot(capture_time=False)` would have taken it."""
    return {(label, _frozen({k: json.loads(v) for k, v in props}, False)) for label, props in snap[0]}, snap[1]


def kinds(store: Any) -> dict[str, str]:
    rows = store.run("MATCH (n) WHERE n:Batch OR n:MaterialLot RETURN labels(n)[0] AS l, n.id AS id", write=False)
    return {r["id"]: r["l"] for r in rows}


def resin_impact(store: Any) -> dict[str, Any]:
    r = impact(store, ImpactCause(lots=[RESIN]), engine="cypher")
    return {"batches": sorted(b.id for b in r.batches), "serials": sorted((s.id, s.status, s.customer) for s in r.serials),
            "customers": sorted(c.model_dump_json() for c in r.customers), "counts": dict(r.counts),
            "lots": sorted(lt.id for lt in r.lots)}


EXPECTED_KINDS = {RESIN: "MaterialLot", FILM: "MaterialLot", SUBASSY: "Batch", FG_LOT: "Batch"}


@pytest.fixture(scope="module")
def reference(store: Any) -> dict[str, Any]:
    """The graph of all the events in ONE document: what every other way must give."""
    import_epcis(store, doc(EVENTS), ACTOR)
    return {"snapshot": snapshot(store), "impact": resin_impact(store), "kinds": kinds(store), "units": units(store)}


def units(store: Any) -> dict[str, tuple[Any, Any]]:
    rows = store.run("MATCH (s:Serial) RETURN s.id AS id, s.status AS status, s.customer_id AS c", write=False)
    return {r["id"]: (r["status"], r["c"]) for r in rows}


#: where the units are after all the events: S1 received by the customer, S2 destroyed there, S3 never shipped
EXPECTED_UNITS = {UNIT + "S1": ("at_distributor", CUSTOMER), UNIT + "S2": ("destroyed", CUSTOMER),
                  UNIT + "S3": ("in_stock", None)}


def test_one_document_gives_the_kinds_the_events_say(reference: Any) -> None:
    assert reference["kinds"] == EXPECTED_KINDS
    assert reference["units"] == EXPECTED_UNITS
    imp = reference["impact"]
    assert imp["batches"] == sorted([SUBASSY, FG_LOT])
    assert [s[0] for s in imp["serials"]] == [UNIT + "S1", UNIT + "S2", UNIT + "S3"]
    assert {s[2] for s in imp["serials"]} == {CUSTOMER, None} and imp["counts"]["customers"] == 1


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "-".join(map(str, o)))
def test_one_event_per_import_in_any_order_gives_the_same_graph(order: tuple[int, ...], reference: Any,
                                                                 fresh: Any) -> None:
    store = fresh()
    for i in order:
        import_epcis(store, doc([EVENTS[i]]), ACTOR)
    assert kinds(store) == EXPECTED_KINDS
    assert units(store) == EXPECTED_UNITS  # status and holder by event time, whatever the order of capture
    got = snapshot(store)
    assert got[0] == reference["snapshot"][0], (sorted(got[0] ^ reference["snapshot"][0]))
    assert got[1] == reference["snapshot"][1], (sorted(got[1] ^ reference["snapshot"][1]))
    assert resin_impact(store) == reference["impact"]
    assert verify(store).ok


def test_documents_of_two_events_in_time_order_give_the_same_graph(reference: Any, fresh: Any) -> None:
    store = fresh()
    for i in range(0, N, 2):
        import_epcis(store, doc(EVENTS[i:i + 2]), ACTOR)
    assert snapshot(store) == reference["snapshot"]


def test_a_rekinded_lot_is_an_audited_step_of_the_import_run(fresh: Any) -> None:
    """The sub-assembly consumed before its production arrives is stored as a MaterialLot; the
    production event re-kinds it, as a commit-log step of that run, in the audit chain."""
    store = fresh()
    import_epcis(store, doc([EVENTS[3]]), ACTOR)
    assert kinds(store)[SUBASSY] == "MaterialLot"
    res = import_epcis(store, doc([EVENTS[2]]), ACTOR)
    assert kinds(store)[SUBASSY] == "Batch"
    # the Material the wrong node named (nothing else used it) went with it; the Product it needs is there
    assert store.run("MATCH (m:Material {id: '10614141073402'}) RETURN m", write=False) == []
    assert store.run("MATCH (:Batch {id: $id})-[:OF]->(p:Product) RETURN p.id AS p", {"id": SUBASSY},
                     write=False) == [{"p": "10614141073402"}]
    # the run's commit log, in the audit chain, names the step (query, rows, SHA-256 of the rows)
    entries = store.run("MATCH (e:AuditEntry) WHERE e.target_key = $run RETURN e.changes AS c",
                        {"run": res.import_id}, write=False)
    logged = [c for e in entries for c in json.loads(e["c"]) if c["field"] == "commit steps"]
    assert any(s["query"] == "epcis.tx_retype_materiallot" and s["rows"] == 1 for c in logged for s in c["new"])
    assert verify(store).ok


def test_a_lot_records_outside_epcis_hold_is_not_rekinded_behind_their_back(fresh: Any) -> None:
    """A lot stored as a Batch (for want of evidence) that a quality record now refers to:
    the receipt that shows it is a supplier's lot is refused whole, naming the lot."""
    store = fresh()
    import_epcis(store, doc([EVENTS[0]]), ACTOR)
    assert kinds(store)[FILM] == "Batch"
    open_record(store, DEVIATION, ACTOR, {"title": "film lot F-31", "description": "wrinkles seen at inspection"},
                about={"Batch": [FILM]})
    before = snapshot(store)
    with pytest.raises(Conflict) as err:
        import_epcis(store, doc([EVENTS[1]]), ACTOR)
    assert FILM in err.value.message and "ABOUT" in err.value.message
    assert snapshot(store) == before


def test_votes_come_from_the_event_alone() -> None:
    assert lot_votes(EVENTS[1]) == {RESIN: "bought", FILM: "bought"}
    assert lot_votes(EVENTS[0]) == {}
    assert lot_votes(EVENTS[2]) == {RESIN: "used", SUBASSY: "made"}
    assert lot_votes(EVENTS[3])[FG_LOT] == "made" and lot_votes(EVENTS[3])[SUBASSY] == "used"
    own = {**EVENTS[1], "sourceList": [{"type": "owning_party", "source": US}]}  # a move between our own sites
    assert lot_votes(own) == {}
    assert decide_kind({"used", "made"}) == "Batch" and decide_kind({"bought"}) == "MaterialLot"
    assert decide_kind(set(), "MaterialLot") == "MaterialLot" and decide_kind(set()) == "Batch"


def test_xml_one_event_per_capture_gives_the_same_graph(reference: Any, fresh: Any, tmp_path: Path) -> None:
    store = fresh()
    for i in reversed(range(N)):
        f = tmp_path / f"event-{i}.xml"
        f.write_bytes(document_to_xml(doc([EVENTS[i]])))
        import_epcis(store, f, ACTOR)
    assert snapshot(store) == reference["snapshot"]
    assert resin_impact(store) == reference["impact"]


# ---------------------------------------------------------------------------------------
# the REST capture endpoint: a goods-in scanner and a packaging line capturing one at a time
# ---------------------------------------------------------------------------------------


def _machine_api(store: Any, tmp: Path) -> Api:
    from fastapi.testclient import TestClient

    from tracegraph.api.app import create_app
    from tracegraph.engine.access import auth
    from tracegraph.settings import load_settings

    auth.init_admin(store, ADMIN, "Ada Admin", PASSWORD)
    admin = auth.authenticate(store, ADMIN, PASSWORD)
    auth.add_user(store, admin, role_user("capture_device"), "scanner", PASSWORD, ["capture_device"], reason="test")
    api = Api(client=TestClient(create_app(load_settings(data_dir=tmp), store=store), client=("127.0.0.1", 50000)),
              store=store)
    api.tokens["capture_device"] = api.login(role_user("capture_device"))
    return api


def _capture(api: Api, body: Any, events: int = 1) -> None:
    r = api.client.post("/epcis/capture", content=json.dumps(body),
                        headers={**api.headers("capture_device"), "Content-Type": "application/ld+json"})
    assert r.status_code == 202, r.text
    job = api.client.get(r.headers["Location"], headers=api.headers("capture_device")).json()
    assert job["success"] is True and job["capturedEvents"] == events, job


@pytest.mark.parametrize("order", [None, ORDERS[0], ORDERS[1], ORDERS[2]],
                         ids=lambda o: "one-document" if o is None else "-".join(map(str, o)))
def test_rest_capture_one_event_per_request_gives_the_same_graph(order: tuple[int, ...] | None, reference: Any,
                                                                 fresh: Any, tmp_path: Path) -> None:
    store = fresh()
    api = _machine_api(store, tmp_path)
    if order is None:
        _capture(api, doc(EVENTS), events=N)
    for i in order or ():
        _capture(api, EVENTS[i] if i % 2 else doc([EVENTS[i]]))  # bare events and one-event documents
    got = snapshot(store, capture_time=False)
    assert got == snapshot_without_capture_time(reference["snapshot"])
    assert resin_impact(store) == reference["impact"]


# ---------------------------------------------------------------------------------------
# state by event time (loaders/epcis_state.py)
# ---------------------------------------------------------------------------------------


def test_a_receipt_captured_before_its_shipment_leaves_the_unit_at_the_distributor(fresh: Any) -> None:
    """The brief's case: the receipt (Feb 7) arrives first, then the shipment it closes (Feb 5).
    Last-captured would leave the units in transit; the event that happened last decides."""
    store = fresh()
    for i in (3, 5, 4):  # production, receipt, shipment
        import_epcis(store, doc([EVENTS[i]]), ACTOR)
    got = units(store)
    assert got[UNIT + "S1"] == got[UNIT + "S2"] == ("at_distributor", CUSTOMER)
    stamp = json.loads(store.run("MATCH (s:Serial {id: $id}) RETURN s.state_at AS a", {"id": UNIT + "S1"},
                                 write=False)[0]["a"])
    assert stamp["status"] == stamp["customer_id"] == "2026-02-07T08:00:00.000000+00:00"
    assert verify(store).ok


def test_state_times_merge_by_event_time_then_value() -> None:
    from tracegraph.loaders.epcis_state import merge

    t5, t7 = "2026-02-05T08:00:00.000000+00:00", "2026-02-07T08:00:00.000000+00:00"
    assert merge({"status": t5}, {"status": t7}, "Serial") == ({"status": t7}, {"status"})  # stale: dropped
    assert merge({"status": t7}, {"status": t5}, "Serial") == ({"status": t7}, set())
    # the same instant: the value decides, the same way whichever was stored first
    a, b = {"status": "at_distributor"}, {"status": "in_transit"}
    assert merge({"status": t5}, {"status": t5}, "Serial", values=b, stored=a)[1] == set()
    assert merge({"status": t5}, {"status": t5}, "Serial", values=a, stored=b)[1] == {"status"}
    # the same fact again (a partner re-sending it under a new eventID): nothing changes
    assert merge({"status": t5}, {"status": t5}, "Serial", values=a, stored=a) == ({"status": t5}, {"status"})
    # a batch's start: the earliest event; a start the graph holds from elsewhere (the ERP) is kept
    assert merge({"started_at": t5}, {"started_at": t7}, "Batch") == ({"started_at": t5}, set())
    assert merge({"started_at": t5}, {}, "Batch", exists=True)[1] == {"started_at"}
    assert merge({"started_at": t5}, {}, "Batch", exists=False)[1] == set()


def test_events_at_the_same_instant_give_the_same_state_in_any_order(fresh: Any) -> None:
    """A shipment and a return stamped with the same eventTime: neither happened later, the
    stated value orders them, so both orders of capture and the one document agree."""
    same = "2026-02-05T08:00:00Z"
    ship = {**EVENTS[4], "eventTime": same}
    back = _ev("ObjectEvent", same, 8, action="OBSERVE", bizStep="receiving", disposition="returned",
               epcList=[UNIT + "S1"], sourceList=[{"type": "owning_party", "source": CUSTOMER}])
    got = []
    for docs in ([[EVENTS[3], ship, back]], [[EVENTS[3]], [ship], [back]], [[EVENTS[3]], [back], [ship]]):
        store = fresh()
        for events in docs:
            import_epcis(store, doc(events), ACTOR)
        got.append((units(store)[UNIT + "S1"], snapshot(store, capture_time=False)))
    assert got[0] == got[1] == got[2]


# ---------------------------------------------------------------------------------------
# events that arrive before what they refer to (loaders/epcis_late.py)
# ---------------------------------------------------------------------------------------

CASE_A, CASE_B = "urn:epc:id:sscc:0614141.1234567890", "urn:epc:id:sscc:0614141.1234567891"
#: S3 packed into case A, taken out, packed into case B; both cases shipped. Captured one at a time in
#: any order: an unpack before the packing it ends, a shipment of a case before its packing, a
#: packing into A after the move into B, aggregations whose parent case is not known yet
PACKING: list[dict[str, Any]] = [EVENTS[3]] + [
    _ev("AggregationEvent", "2026-02-04T08:00:00Z", 11, action="ADD", bizStep="packing", parentID=CASE_A,
        childEPCs=[UNIT + "S3", UNIT + "S1"]),
    _ev("AggregationEvent", "2026-02-05T09:00:00Z", 12, action="DELETE", bizStep="unpacking", parentID=CASE_A,
        childEPCs=[UNIT + "S3"]),
    _ev("AggregationEvent", "2026-02-05T10:00:00Z", 13, action="ADD", bizStep="packing", parentID=CASE_B,
        childEPCs=[UNIT + "S3"]),
    _ev("ObjectEvent", "2026-02-06T08:00:00Z", 14, action="OBSERVE", bizStep="shipping", disposition="in_transit",
        epcList=[CASE_A], sourceList=[{"type": "owning_party", "source": US}],
        destinationList=[{"type": "owning_party", "destination": CUSTOMER}]),
    _ev("ObjectEvent", "2026-02-06T09:00:00Z", 15, action="OBSERVE", bizStep="shipping", disposition="in_transit",
        epcList=[CASE_B], sourceList=[{"type": "owning_party", "source": US}],
        destinationList=[{"type": "owning_party", "destination": SUPPLIER}]),
    _ev("AggregationEvent", "2026-02-08T08:00:00Z", 16, action="DELETE", bizStep="unpacking", parentID=CASE_B),
]
P = len(PACKING)
PACK_ORDERS = [tuple(reversed(range(P)))] + [tuple(random.Random(seed).sample(range(P), P)) for seed in (5, 6, 7)]
#: seals are compared by `audit verify`, not here: which write sealed a record depends on the order
SEALS = {"seal", "sealed_seq"}


def unsealed(snap: tuple[set[Any], set[Any]]) -> tuple[set[Any], set[Any]]:
    return ({(lbl, tuple(p for p in props if p[0] not in SEALS)) for lbl, props in snap[0]},
            {(*e[:5], tuple(p for p in e[5] if p[0] not in SEALS)) for e in snap[1]})


def packing_links(store: Any) -> set[tuple[Any, ...]]:
    rows = store.run("MATCH (c:Serial)-[p:PACKED_IN]->(k:Container) RETURN c.id AS c, k.id AS k, p.from AS f, "
                     "p.to AS t", write=False)
    return {(r["c"], r["k"], r["f"], r["t"]) for r in rows}


@pytest.fixture(scope="module")
def packing_reference(embedded_server: Any) -> dict[str, Any]:
    import uuid

    from tracegraph.engine.stores.falkordb import FalkorDBStore

    store = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph="t_packing_" + uuid.uuid4().hex[:8],
                          server=embedded_server)
    store.apply_schema()
    import_epcis(store, doc(PACKING), ACTOR)
    out = {"snapshot": unsealed(snapshot(store)), "links": packing_links(store), "units": units(store)}
    store.drop_graph()
    store.close()
    return out


def test_packing_in_one_document_gives_closed_intervals(packing_reference: Any) -> None:
    at = "2026-02-0{}T{}:00:00.000000+00:00".format
    assert packing_reference["links"] == {
        (UNIT + "S1", CASE_A, at(4, "08"), None), (UNIT + "S3", CASE_A, at(4, "08"), at(5, "09")),
        (UNIT + "S3", CASE_B, at(5, "10"), at(8, "08"))}
    # S1 went with case A to the customer, S3 with case B to the supplier
    assert packing_reference["units"][UNIT + "S1"] == ("in_transit", CUSTOMER)
    assert packing_reference["units"][UNIT + "S3"] == ("in_transit", SUPPLIER)


@pytest.mark.parametrize("order", PACK_ORDERS, ids=lambda o: "-".join(map(str, o)))
def test_packing_captured_one_event_at_a_time_in_any_order_gives_the_same_graph(
        order: tuple[int, ...], packing_reference: Any, fresh: Any) -> None:
    store = fresh()
    for i in order:
        import_epcis(store, doc([PACKING[i]]), ACTOR)
    assert packing_links(store) == packing_reference["links"]
    assert units(store) == packing_reference["units"]
    got = unsealed(snapshot(store))
    assert got[0] == packing_reference["snapshot"][0], sorted(got[0] ^ packing_reference["snapshot"][0])
    assert got[1] == packing_reference["snapshot"][1], sorted(got[1] ^ packing_reference["snapshot"][1])
    report = verify(store)  # the rewritten intervals are sealed like every other EPCIS write
    assert report.ok, report.problems[:3]


# ---------------------------------------------------------------------------------------
# a receipt captured before its shipment, no business transaction in common (loaders/epcis_receipts.py)
# ---------------------------------------------------------------------------------------

def _plain(e: dict[str, Any], n: int) -> dict[str, Any]:
    """The event without its business transactions, under another eventID."""
    out = {k: v for k, v in e.items() if k != "bizTransactionList"}
    out["eventID"] = f"urn:uuid:6a1c0000-0000-4000-8000-{n:012d}"
    return out


#: production, a shipment of S1 and S2 to the customer, the customer's receipt: no despatch advice
SHIP_PLAIN, RECEIPT_PLAIN = _plain(EVENTS[4], 21), _plain(EVENTS[5], 22)
RECEIPTS = [EVENTS[3], SHIP_PLAIN, RECEIPT_PLAIN, EVENTS[6]]
RECEIPT_ORDERS = [(0, 2, 1, 3), (2, 1, 0, 3), (3, 2, 0, 1), (2, 3, 1, 0)]


def shipments(store: Any) -> dict[str, tuple[Any, ...]]:
    rows = store.run("MATCH (s:Shipment) OPTIONAL MATCH (s)-[d:DELIVERED_TO]->(c:Customer) "
                     "RETURN s.id AS id, s.status AS st, s.delivered_at AS at, c.id AS c, d.date AS d", write=False)
    return {r["id"]: (r["st"], r["at"], r["c"], r["d"]) for r in rows}


@pytest.fixture(scope="module")
def receipt_reference(embedded_server: Any) -> dict[str, Any]:
    import uuid

    from tracegraph.engine.stores.falkordb import FalkorDBStore

    store = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph="t_receipts_" + uuid.uuid4().hex[:8],
                          server=embedded_server)
    store.apply_schema()
    import_epcis(store, doc(RECEIPTS), ACTOR)
    out = {"snapshot": unsealed(snapshot(store)), "shipments": shipments(store), "units": units(store)}
    store.drop_graph()
    store.close()
    return out


def test_one_document_gives_one_delivered_shipment(receipt_reference: Any) -> None:
    at7 = "2026-02-07T08:00:00.000000+00:00"
    assert receipt_reference["shipments"] == {SHIP_PLAIN["eventID"]: ("delivered", at7, CUSTOMER, at7)}


@pytest.mark.parametrize("order", RECEIPT_ORDERS, ids=lambda o: "-".join(map(str, o)))
def test_a_receipt_before_its_shipment_without_a_common_transaction_gives_one_shipment(
        order: tuple[int, ...], receipt_reference: Any, fresh: Any) -> None:
    store = fresh()
    runs = {}
    for i in order:
        runs[i] = import_epcis(store, doc([RECEIPTS[i]]), ACTOR)
    assert shipments(store) == receipt_reference["shipments"]
    assert units(store) == receipt_reference["units"]
    got = unsealed(snapshot(store))
    assert got[0] == receipt_reference["snapshot"][0], sorted(got[0] ^ receipt_reference["snapshot"][0])
    assert got[1] == receipt_reference["snapshot"][1], sorted(got[1] ^ receipt_reference["snapshot"][1])
    report = verify(store)
    assert report.ok, report.problems[:3]
    if order.index(2) < order.index(1):  # the receipt came first: the shipment's run absorbed its own
        entries = store.run("MATCH (e:AuditEntry) WHERE e.target_key = $run RETURN e.changes AS c",
                            {"run": runs[1].import_id}, write=False)
        logged = [c for e in entries for c in json.loads(e["c"]) if c["field"] == "commit steps"]
        assert any(s["query"] == "epcis.tx_absorb_shipment" and s["rows"] == 1 for c in logged for s in c["new"])


def test_a_receipt_is_not_absorbed_by_a_shipment_elsewhere_or_later(fresh: Any) -> None:
    """The rule: a shipment to another destination, or one sent after the receipt, is not the
    shipment the receipt closes; both stay, as in one document."""
    elsewhere = {**SHIP_PLAIN, "destinationList": [{"type": "owning_party", "destination": SUPPLIER}]}
    later = {**_plain(EVENTS[4], 23), "eventTime": "2026-02-08T08:00:00Z"}
    for ship in (elsewhere, later):
        one = fresh()
        import_epcis(one, doc([EVENTS[3], ship, RECEIPT_PLAIN]), ACTOR)
        store = fresh()
        for e in (EVENTS[3], RECEIPT_PLAIN, ship):
            import_epcis(store, doc([e]), ACTOR)
        assert len(shipments(store)) == 2
        assert shipments(store) == shipments(one)
        assert unsealed(snapshot(store)) == unsealed(snapshot(one))


# ---------------------------------------------------------------------------------------
# an aggregation OBSERVE captured before the ADD into the same case (loaders/epcis_late.py)
# ---------------------------------------------------------------------------------------

OBSERVING: list[dict[str, Any]] = [EVENTS[3]] + [
    _ev("AggregationEvent", "2026-02-04T08:00:00Z", 31, action="ADD", bizStep="packing", parentID=CASE_A,
        childEPCs=[UNIT + "S1", UNIT + "S2"]),
    _ev("AggregationEvent", "2026-02-06T08:00:00Z", 32, action="OBSERVE", bizStep="storing", parentID=CASE_A,
        childEPCs=[UNIT + "S1", UNIT + "S2"]),
    _ev("AggregationEvent", "2026-02-06T09:00:00Z", 33, action="OBSERVE", bizStep="storing", parentID=CASE_A,
        childEPCs=[UNIT + "S2"]),
    _ev("AggregationEvent", "2026-02-07T08:00:00Z", 34, action="DELETE", bizStep="unpacking", parentID=CASE_A,
        childEPCs=[UNIT + "S2"]),
]
OBSERVE_ORDERS = [(0, 2, 1, 3, 4), (0, 3, 2, 4, 1), (4, 3, 2, 1, 0), (0, 2, 3, 1, 4)]


@pytest.fixture(scope="module")
def observe_reference(embedded_server: Any) -> dict[str, Any]:
    import uuid

    from tracegraph.engine.stores.falkordb import FalkorDBStore

    store = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph="t_observe_" + uuid.uuid4().hex[:8],
                          server=embedded_server)
    store.apply_schema()
    import_epcis(store, doc(OBSERVING), ACTOR)
    out = {"snapshot": unsealed(snapshot(store)), "links": packing_links(store)}
    store.drop_graph()
    store.close()
    return out


def test_an_observe_confirms_the_packing_in_one_document(observe_reference: Any) -> None:
    at = "2026-02-0{}T08:00:00.000000+00:00".format
    assert observe_reference["links"] == {(UNIT + "S1", CASE_A, at(4), None), (UNIT + "S2", CASE_A, at(4), at(7))}


@pytest.mark.parametrize("order", OBSERVE_ORDERS, ids=lambda o: "-".join(map(str, o)))
def test_an_observe_captured_before_the_add_gives_one_link(order: tuple[int, ...], observe_reference: Any,
                                                           fresh: Any) -> None:
    store = fresh()
    for i in order:
        import_epcis(store, doc([OBSERVING[i]]), ACTOR)
    assert packing_links(store) == observe_reference["links"]
    got = unsealed(snapshot(store))
    assert got[0] == observe_reference["snapshot"][0], sorted(got[0] ^ observe_reference["snapshot"][0])
    assert got[1] == observe_reference["snapshot"][1], sorted(got[1] ^ observe_reference["snapshot"][1])
    report = verify(store)
    assert report.ok, report.problems[:3]


def test_an_observe_and_unpack_in_a_later_document_continue_the_stored_interval(observe_reference: Any,
                                                                              fresh: Any) -> None:
    """In time order: the ADD in one document, the OBSERVEs and the unpack in the next. The later
    document knows the open interval the graph holds (epcis_late.open_packs), so the OBSERVE
    continues it and the unpack closes it: one interval, as in one document (found by
    tests/test_epcis_order_property.py)."""
    store = fresh()
    import_epcis(store, doc(OBSERVING[:2]), ACTOR)
    import_epcis(store, doc(OBSERVING[2:]), ACTOR)
    assert packing_links(store) == observe_reference["links"]
    assert unsealed(snapshot(store)) == observe_reference["snapshot"]
    assert verify(store).ok


# ---------------------------------------------------------------------------------------
# what is pending (loaders/epcis_pending.py): kept, applied when the missing piece arrives, and said
# ---------------------------------------------------------------------------------------


def test_what_is_missing_is_answered_as_pending_until_it_arrives(fresh: Any) -> None:
    """A shipment of a case whose packing has not arrived, the packing of units whose production
    has not arrived, then the production: each answer names what is still missing; nothing is
    dropped (every event is stored and applied when its piece arrives)."""
    store = fresh()
    ship_case, pack, production = PACKING[4], PACKING[1], PACKING[0]
    r1 = import_epcis(store, doc([ship_case]), ACTOR)
    assert [(p.label, p.id, p.missing) for p in r1.pending] == [("Container", CASE_A, "packing")]
    assert "packing" in r1.pending[0].message and CASE_A in r1.pending[0].message
    r2 = import_epcis(store, doc([pack]), ACTOR)
    assert {(p.label, p.id, p.missing) for p in r2.pending} == {("Serial", UNIT + "S1", "production"),
                                                                ("Serial", UNIT + "S3", "production")}
    # the case's shipment reached its contents as soon as the packing arrived
    shipped = store.run("MATCH (s:Serial)-[:SHIPPED_IN]->(:Shipment) RETURN s.id AS s ORDER BY s", write=False)
    assert [r["s"] for r in shipped] == [UNIT + "S1", UNIT + "S3"]
    r3 = import_epcis(store, doc([production]), ACTOR)
    assert r3.pending == []
    assert store.run("MATCH (e:EpcisEvent) RETURN count(e) AS n", write=False)[0]["n"] == 3
    # a receipt whose shipment has not arrived: pending until the shipping event absorbs its own
    store = fresh()
    import_epcis(store, doc([EVENTS[3]]), ACTOR)
    r4 = import_epcis(store, doc([RECEIPT_PLAIN]), ACTOR)
    assert [(p.label, p.missing) for p in r4.pending] == [("Shipment", "shipping")]
    r5 = import_epcis(store, doc([SHIP_PLAIN]), ACTOR)
    assert r5.pending == []


def test_a_capture_job_says_what_is_pending(fresh: Any, tmp_path: Path) -> None:
    store = fresh()
    api = _machine_api(store, tmp_path)
    r = api.client.post("/epcis/capture", content=json.dumps(doc([PACKING[4]])),
                        headers={**api.headers("capture_device"), "Content-Type": "application/ld+json"})
    assert r.status_code == 202, r.text
    job = api.client.get(r.headers["Location"], headers=api.headers("capture_device")).json()
    assert job["success"] is True and job["capturedEvents"] == 1
    assert [(p["type"], p["id"], p["missing"]) for p in job["pending"]] == [("Container", CASE_A, "packing")]


def test_a_provisional_shipment_records_outside_epcis_hold_is_not_absorbed_behind_their_back(fresh: Any) -> None:
    """The receipt's own shipment that a record outside the EPCIS mapping refers to (here a
    document link): the shipping event that would absorb it is refused whole, naming it."""
    store = fresh()
    import_epcis(store, doc([EVENTS[3]]), ACTOR)
    import_epcis(store, doc([RECEIPT_PLAIN]), ACTOR)
    own = RECEIPT_PLAIN["eventID"]
    store.run("MATCH (s:Shipment {id: $id}) CREATE (s)-[:DOCUMENTED_BY]->(:Document {id: 'DOC-1', version: 1})",
              {"id": own})
    before = snapshot(store)
    with pytest.raises(Conflict) as err:
        import_epcis(store, doc([SHIP_PLAIN]), ACTOR)
    assert own in err.value.message and "DOCUMENTED_BY" in err.value.message
    assert snapshot(store) == before
