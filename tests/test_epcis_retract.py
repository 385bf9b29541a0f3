"""GS1 error declarations undo what the erroneous event did (issue 14, point 4; loaders/epcis_retract.py).

Two units shipped to hospital H1 by mistake, declared erroneous (CBV `incorrect_data`) and corrected
by a shipment to H2: impact (both engines) has them at H2 and H1 nowhere, and the graph is the graph
of the corrective event alone. The same with the original and its declaration in one document; a
case shipped by mistake (`did_not_occur`, no corrective event) takes its packed units back; a unit a
return recorded outside EPCIS holds is not corrected behind its back. Events written by hand from EPCIS
2.0 §7.4.1.2 and CBV 2.0."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from derive_killer import kill_in_derivation
from graph_snapshot import snapshot
from tracegraph.engine import commands
from tracegraph.engine.access.actor import Actor
from tracegraph.engine.audit.chain import head
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.errors import Conflict, NotFound
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.engine.trace import index as trace_index
from tracegraph.engine.trace.impact import impact
from tracegraph.engine.trace.models import ImpactCause, ImpactOptions
from tracegraph.loaders.epcis import import_epcis

ACTOR = Actor("u-qa", "Quinn QA", frozenset({"qa"}))
CTX = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
U1, U2 = "urn:epc:id:sgtin:4012345.011111.2001", "urn:epc:id:sgtin:4012345.011111.2002"
CASE = "urn:epc:id:sscc:4012345.0000000777"
H1, H2 = "urn:epc:id:pgln:4012399.00001", "urn:epc:id:pgln:4012399.00002"
WRONG, RIGHT = "urn:uuid:5c1d0000-0000-4000-8000-0000000000a1", "urn:uuid:5c1d0000-0000-4000-8000-0000000000a2"
PACK = "urn:uuid:5c1d0000-0000-4000-8000-0000000000a0"
SITE = {"id": "urn:epc:id:sgln:4012345.00001.0"}


def ship(eid: str, epcs: list[str], to: str, when: str = "2026-05-04T10:00:00+02:00") -> dict[str, Any]:
    return {"type": "ObjectEvent", "eventID": eid, "eventTime": when, "eventTimeZoneOffset": "+02:00",
            "action": "OBSERVE", "epcList": epcs, "bizStep": "shipping", "disposition": "in_transit",
            "readPoint": SITE, "bizLocation": SITE,
            "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
            "destinationList": [{"type": "owning_party", "destination": to}]}


def pack() -> dict[str, Any]:
    return {"type": "AggregationEvent", "eventID": PACK, "eventTime": "2026-05-04T08:00:00+02:00",
            "eventTimeZoneOffset": "+02:00", "parentID": CASE, "childEPCs": [U1, U2], "action": "ADD",
            "bizStep": "packing", "disposition": "in_progress", "readPoint": SITE}


def declared(e: dict[str, Any], reason: str = "incorrect_data", corrective: list[str] | None = None) -> dict[str, Any]:
    decl: dict[str, Any] = {"declarationTime": "2026-05-05T09:00:00+02:00", "reason": reason}
    if corrective:
        decl["correctiveEventIDs"] = corrective
    return {**copy.deepcopy(e), "errorDeclaration": decl}


def doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-05-05T00:00:00Z",
            "epcisBody": {"eventList": list(events)}}


@pytest.fixture()
def other_store(embedded_server: Any) -> Iterator[FalkorDBStore]:
    """A second fresh graph: the corrective events alone, to compare with."""
    import uuid

    s = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph="t_retract_" + uuid.uuid4().hex[:8],
                      server=embedded_server)
    s.apply_schema()
    yield s
    s.drop_graph()
    s.close()


def answers(store: Any, units: list[str]) -> tuple[dict[str, Any], str]:
    """Where each unit is by both engines (they must agree), and the whole answer as text."""
    trace_index.refresh(store)
    try:
        cause = ImpactCause(serials=units)
        a = impact(store, cause, engine="cypher").model_dump(exclude={"engine", "index_seq", "elapsed_ms"})
        b = impact(store, cause, engine="index").model_dump(exclude={"engine", "index_seq", "elapsed_ms"})
        assert a == b
        hist = impact(store, cause, ImpactOptions(with_history=True), engine="cypher")
        asof = impact(store, cause, ImpactOptions(as_of="2026-05-04T12:00:00+00:00"), engine="cypher")
    finally:
        trace_index.disable(store)
    where = {s["id"]: (s["status"], s["customer"]) for s in a["serials"]}
    return where, json.dumps(a, default=str) + hist.model_dump_json() + asof.model_dump_json()


def business(store: Any, leave_out: str) -> tuple[list[Any], list[Any]]:
    """The graph without the declared event's node and its CONCERNS links (which the corrective
    event alone does not have)."""
    nodes, edges = snapshot(store)
    nodes = [n for n in nodes if not (n[0] == "EpcisEvent" and json.loads(n[1])["id"] == leave_out)]
    edges = [e for e in edges if e[1] != leave_out]
    return nodes, edges


def test_a_declared_shipment_in_a_later_document_is_undone_and_corrected(empty_store: Any, other_store: Any) -> None:
    wrong = ship(WRONG, [U1, U2], H1)
    import_epcis(empty_store, doc(wrong), ACTOR)
    where, _ = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_transit", H1), U2: ("in_transit", H1)}  # the mistake, as the graph held it
    right = ship(RIGHT, [U1, U2], H2)  # a corrective event often carries the original's eventTime
    import_epcis(empty_store, doc(declared(wrong, corrective=[RIGHT]), right), ACTOR)
    where, text = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_transit", H2), U2: ("in_transit", H2)}
    assert H1 not in text  # not the holder, not in the history, not in the as-of answer
    assert verify(empty_store).ok
    row = empty_store.run("MATCH (e:EpcisEvent {id: $id}) RETURN e.error_declared AS d, e.original_json AS o",
                          {"id": WRONG})[0]
    assert row["d"] is True and "errorDeclaration" not in json.loads(row["o"])  # both versions on record
    import_epcis(other_store, doc(right), ACTOR)
    assert business(empty_store, WRONG) == business(other_store, WRONG)


def test_b_the_original_and_its_declaration_in_one_document(empty_store: Any, other_store: Any) -> None:
    wrong = ship(WRONG, [U1, U2], H1)
    right = ship(RIGHT, [U1, U2], H2)
    res = import_epcis(empty_store, doc(wrong, declared(wrong, corrective=[RIGHT]), right), ACTOR)
    assert res.events == 2
    where, text = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_transit", H2), U2: ("in_transit", H2)} and H1 not in text
    assert verify(empty_store).ok
    row = empty_store.run("MATCH (e:EpcisEvent {id: $id}) RETURN e.error_declared AS d, e.original_json AS o",
                          {"id": WRONG})[0]
    assert row["d"] is True and "errorDeclaration" not in json.loads(row["o"])
    import_epcis(other_store, doc(right), ACTOR)
    assert business(empty_store, WRONG) == business(other_store, WRONG)


def test_c_a_case_shipped_by_mistake_takes_its_units_back(empty_store: Any) -> None:
    wrong = ship(WRONG, [CASE], H1)
    import_epcis(empty_store, doc(pack(), wrong), ACTOR)
    where, _ = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_transit", H1), U2: ("in_transit", H1)}  # the units followed their case
    import_epcis(empty_store, doc(declared(wrong, reason="did_not_occur")), ACTOR)
    where, text = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_stock", None), U2: ("in_stock", None)} and H1 not in text
    left = empty_store.run("MATCH (x)-[s:SHIPPED_IN]->() RETURN count(s) AS c", write=False)[0]["c"]
    assert left == 0
    case = empty_store.run("MATCH (c:Container {id: $id}) RETURN c.status AS s, c.customer_id AS cu", {"id": CASE})[0]
    assert case["s"] in (None, "in_stock") and case["cu"] is None
    packed = empty_store.run("MATCH (:Serial)-[p:PACKED_IN]->(:Container) WHERE p.to IS NULL RETURN count(p) AS c",
                             write=False)[0]["c"]
    assert packed == 2  # still in the case, which never left
    assert verify(empty_store).ok


def test_e_an_effect_a_return_outside_epcis_holds_is_refused_and_nothing_is_written(empty_store: Any) -> None:
    """H1 sent U1 back and customer service recorded the return (not an EPCIS event): the shipment
    to H1 cannot silently vanish under that return. Refused naming the record; nothing written."""
    wrong = ship(WRONG, [U1, U2], H1)
    import_epcis(empty_store, doc(wrong), ACTOR)
    commands.create(empty_store, "Return", "RET-9", {"date": "2026-05-06T10:00:00+00:00", "customer_id": H1,
                                                    "item_kind": "serial", "item_id": U1, "qty": 1.0}, ACTOR)
    commands.link(empty_store, "Serial", U1, "RETURNED_IN", "Return", "RET-9", ACTOR, props={"qty": 1.0})
    before, seq = snapshot(empty_store), head(empty_store)["seq"]
    with pytest.raises(Conflict) as refused:
        import_epcis(empty_store, doc(declared(wrong, corrective=[RIGHT]), ship(RIGHT, [U1, U2], H2)), ACTOR)
    assert U1 in str(refused.value) and "RET-9" in str(refused.value)
    assert head(empty_store)["seq"] == seq and snapshot(empty_store) == before
    assert verify(empty_store).ok


CASE2 = "urn:epc:id:sscc:4012345.0000000778"
DESADV = "urn:epcglobal:cbv:bt:4012345000009:DA-7001"
LOT_A, LOT_B = "urn:epc:class:lgtin:4012345.011111.LA", "urn:epc:class:lgtin:4012345.011111.LB"


def test_a_packing_by_mistake_is_undone_and_the_case_that_was_shipped_carries_the_units(
        empty_store: Any, other_store: Any) -> None:
    """U1, U2 packed into the wrong case (declared), corrected into CASE2; CASE2 ships to H2 and
    CASE (empty now) to H1: the units are at H2 only."""
    wrong = {**pack(), "eventID": WRONG}
    right = {**pack(), "eventID": RIGHT, "parentID": CASE2}
    later = [ship("urn:uuid:5c1d0000-0000-4000-8000-0000000000b1", [CASE], H1),
             ship("urn:uuid:5c1d0000-0000-4000-8000-0000000000b2", [CASE2], H2)]
    import_epcis(empty_store, doc(wrong), ACTOR)
    import_epcis(empty_store, doc(declared(wrong, corrective=[RIGHT]), right), ACTOR)
    import_epcis(empty_store, doc(*later), ACTOR)
    where, text = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_transit", H2), U2: ("in_transit", H2)} and H1 not in text.replace(CASE, "")
    links = empty_store.run("MATCH (s:Serial)-[p:PACKED_IN]->(c:Container) RETURN s.id AS s, c.id AS c", write=False)
    assert sorted((r["s"], r["c"]) for r in links) == [(U1, CASE2), (U2, CASE2)]
    assert verify(empty_store).ok
    import_epcis(other_store, doc(right), ACTOR)
    import_epcis(other_store, doc(*later), ACTOR)
    assert business(empty_store, WRONG) == business(other_store, WRONG)


def commission(eid: str, lot: str) -> dict[str, Any]:
    return {"type": "ObjectEvent", "eventID": eid, "eventTime": "2026-05-03T10:00:00+02:00",
            "eventTimeZoneOffset": "+02:00", "action": "ADD", "epcList": [U1, U2], "bizStep": "commissioning",
            "disposition": "active", "readPoint": SITE, "bizLocation": SITE,
            "ilmd": {"cbvmda:lotNumber": lot}}


def test_units_commissioned_into_the_wrong_lot_leave_it(empty_store: Any, other_store: Any) -> None:
    """A recall of lot LA must not reach units that were only said by mistake to be of it; and lot
    LA, which only the erroneous commissioning brought into the graph, is gone (issue 14)."""
    wrong, right = commission(WRONG, "LA"), commission(RIGHT, "LB")
    import_epcis(empty_store, doc(wrong), ACTOR)
    import_epcis(empty_store, doc(declared(wrong, corrective=[RIGHT]), right), ACTOR)
    trace_index.refresh(empty_store)
    try:
        for engine in ("cypher", "index"):
            with pytest.raises(NotFound):
                impact(empty_store, ImpactCause(batches=[LOT_A]), engine=engine)
            assert {s.id for s in impact(empty_store, ImpactCause(batches=[LOT_B]), engine=engine).serials} == {U1, U2}
    finally:
        trace_index.disable(empty_store)
    assert empty_store.run("MATCH (b:Batch {id: $id}) RETURN count(b) AS c", {"id": LOT_A})[0]["c"] == 0
    made = empty_store.run("MATCH (b:Batch)-[:PRODUCED]->(s:Serial) RETURN b.id AS b, s.batch_id AS sb", write=False)
    assert {(r["b"], r["sb"]) for r in made} == {(LOT_B, LOT_B)}
    assert verify(empty_store).ok


def test_a_shipment_kept_by_its_despatch_advice_loses_the_wrong_destination(empty_store: Any) -> None:
    """The erroneous and the corrective event name the same despatch advice: one Shipment DA-7001,
    delivered to H2 only."""
    bt = [{"type": "desadv", "bizTransaction": DESADV}]
    wrong = {**ship(WRONG, [U1, U2], H1), "bizTransactionList": bt}
    right = {**ship(RIGHT, [U1, U2], H2), "bizTransactionList": bt}
    import_epcis(empty_store, doc(wrong), ACTOR)
    import_epcis(empty_store, doc(declared(wrong, corrective=[RIGHT]), right), ACTOR)
    where, text = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_transit", H2), U2: ("in_transit", H2)} and H1 not in text
    to = empty_store.run("MATCH (s:Shipment)-[:DELIVERED_TO]->(c:Customer) RETURN s.id AS s, s.customer_id AS sc, "
                         "c.id AS c", write=False)
    assert [(r["s"], r["sc"], r["c"]) for r in to] == [(DESADV, H2, H2)]
    assert empty_store.run("MATCH (c:Customer {id: $id}) RETURN count(c) AS n", {"id": H1})[0]["n"] == 0
    assert verify(empty_store).ok


def test_a_crash_before_the_case_contents_follow_is_finished_by_recovery(empty_store: Any, tmp_path: Any) -> None:
    from tracegraph.engine.imports.runner import get_import, resume_import

    wrong = ship(WRONG, [CASE], H1)
    import_epcis(empty_store, doc(pack(), wrong), ACTOR)
    f = tmp_path / "declaration.jsonld"
    f.write_text(json.dumps(doc(declared(wrong, reason="did_not_occur"))), encoding="utf-8")
    run_id = kill_in_derivation(empty_store, f)
    assert get_import(empty_store, run_id).status == "committing"
    assert resume_import(empty_store, run_id, ACTOR).status == "committed"
    where, text = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_stock", None), U2: ("in_stock", None)} and H1 not in text
    assert verify(empty_store).ok


def receive(eid: str, epcs: list[str], at: str) -> dict[str, Any]:
    return {"type": "ObjectEvent", "eventID": eid, "eventTime": "2026-05-06T10:00:00+02:00",
            "eventTimeZoneOffset": "+02:00", "action": "OBSERVE", "epcList": epcs, "bizStep": "receiving",
            "disposition": "in_progress", "readPoint": {"id": "urn:epc:id:sgln:4012399.00001.0"},
            "destinationList": [{"type": "owning_party", "destination": at}]}


def test_a_receipt_that_did_not_occur_leaves_the_units_in_transit(empty_store: Any) -> None:
    first = ship(RIGHT, [U1, U2], H1)
    wrong = receive(WRONG, [U1, U2], H1)
    import_epcis(empty_store, doc(first), ACTOR)
    import_epcis(empty_store, doc(wrong), ACTOR)
    where, _ = answers(empty_store, [U1, U2])
    assert where == {U1: ("at_distributor", H1), U2: ("at_distributor", H1)}
    import_epcis(empty_store, doc(declared(wrong, reason="did_not_occur")), ACTOR)
    where, _ = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_transit", H1), U2: ("in_transit", H1)}
    sh = empty_store.run("MATCH (s:Shipment {id: $id}) RETURN s.status AS st, s.delivered_at AS d", {"id": RIGHT})[0]
    assert sh == {"st": "in_transit", "d": None}
    to = empty_store.run("MATCH (:Shipment {id: $id})-[d:DELIVERED_TO]->(c:Customer) RETURN c.id AS c, d.date AS d",
                         {"id": RIGHT})
    assert to == [{"c": H1, "d": None}]  # still on its way to H1, not delivered
    assert verify(empty_store).ok


def test_a_loose_shipment_that_did_not_occur_takes_the_unit_only_it_named(empty_store: Any) -> None:
    wrong = ship(WRONG, [U1], H1)
    import_epcis(empty_store, doc(ship(RIGHT, [U2], H2), wrong), ACTOR)  # U2 ships too, and stays
    import_epcis(empty_store, doc(declared(wrong, reason="did_not_occur")), ACTOR)
    where, text = answers(empty_store, [U2])
    assert where == {U2: ("in_transit", H2)} and H1 not in text
    # U1: only the shipment that did not occur named it, so nothing says it exists (issue 14)
    assert empty_store.run("MATCH (s:Serial {id: $id}) RETURN count(s) AS c", {"id": U1})[0]["c"] == 0
    assert empty_store.run("MATCH (s:Shipment) RETURN s.id AS id") == [{"id": RIGHT}]
    assert verify(empty_store).ok


def test_a_quarantined_unit_is_not_moved_by_a_declaration(empty_store: Any) -> None:
    """A return from H1 (EPCIS), then QA quarantines the returned unit; the return is then declared
    erroneous. Moving the unit back to H1 under QA's hold is refused, naming the unit and the hold."""
    import_epcis(empty_store, doc(ship(RIGHT, [U1], H1)), ACTOR)
    back = {**receive(WRONG, [U1], "urn:epc:id:pgln:4012345.00000"), "disposition": "returned",
            "sourceList": [{"type": "owning_party", "source": H1}]}
    import_epcis(empty_store, doc(back), ACTOR)
    assert answers(empty_store, [U1])[0] == {U1: ("returned", H1)}
    commands.set_status(empty_store, "Serial", U1, "quarantined", ACTOR, reason="returned, seal broken")
    before, seq = snapshot(empty_store), head(empty_store)["seq"]
    with pytest.raises(Conflict) as refused:
        import_epcis(empty_store, doc(declared(back, reason="did_not_occur")), ACTOR)
    assert U1 in str(refused.value) and "quarantined" in str(refused.value)
    assert head(empty_store)["seq"] == seq and snapshot(empty_store) == before
    assert verify(empty_store).ok


def test_a_return_that_did_not_occur_puts_the_unit_back_with_its_holder(empty_store: Any) -> None:
    import_epcis(empty_store, doc(ship(RIGHT, [U1], H1)), ACTOR)
    back = {**receive(WRONG, [U1], "urn:epc:id:pgln:4012345.00000"), "disposition": "returned",
            "sourceList": [{"type": "owning_party", "source": H1}]}
    import_epcis(empty_store, doc(back), ACTOR)
    import_epcis(empty_store, doc(declared(back, reason="did_not_occur")), ACTOR)
    assert answers(empty_store, [U1])[0] == {U1: ("in_transit", H1)}
    assert empty_store.run("MATCH (r:Return) RETURN count(r) AS c")[0]["c"] == 0
    assert verify(empty_store).ok


# --- issue 14: a unit or lot commissioned by mistake is gone; batch times follow ----------------

U3 = "urn:epc:id:sgtin:4012345.011111.2003"
GTIN = "04012345111118"  # the GTIN of U1..U3
STILL = "urn:uuid:5c1d0000-0000-4000-8000-0000000000c1"
EARLY, LATE = "urn:uuid:5c1d0000-0000-4000-8000-0000000000d1", "urn:uuid:5c1d0000-0000-4000-8000-0000000000d2"
T8, T10, T12 = "2026-05-03T08:00:00+02:00", "2026-05-03T10:00:00+02:00", "2026-05-03T12:00:00+02:00"


def made(eid: str, epcs: list[str], lot: str, when: str = T10) -> dict[str, Any]:
    """A commissioning ObjectEvent ADD of `epcs` into lot `lot` (CBV `commissioning`, ILMD lotNumber)."""
    return {**commission(eid, lot), "epcList": epcs, "eventTime": when}


def gone_everywhere(store: Any, unit: str) -> None:
    """`unit` is in no traceability answer: impact (both engines), backward trace, scan, the graph."""
    from tracegraph.engine.trace.backward import backward_trace
    from tracegraph.engine.trace.scan import resolve_identifier

    trace_index.refresh(store)
    try:
        for engine in ("cypher", "index"):
            with pytest.raises(NotFound):
                impact(store, ImpactCause(serials=[unit]), engine=engine)
    finally:
        trace_index.disable(store)
    with pytest.raises(NotFound):
        backward_trace(store, unit)
    with pytest.raises(NotFound):
        resolve_identifier(store, unit)
    assert store.run("MATCH (n {id: $id}) RETURN count(n) AS c", {"id": unit})[0]["c"] == 0


def lot_units(store: Any, lot: str) -> tuple[set[str], dict[str, float]]:
    """The lot's units and its stock counts by status, by both engines (they must agree)."""
    trace_index.refresh(store)
    try:
        got = [impact(store, ImpactCause(batches=[lot]), engine=e) for e in ("cypher", "index")]
    finally:
        trace_index.disable(store)
    (a, b) = [({s.id for s in r.serials}, dict(r.by_status)) for r in got]
    assert a == b
    return a


def batch(store: Any, lot: str) -> dict[str, Any]:
    return store.run("MATCH (b:Batch {id: $id}) RETURN b.started_at AS s, b.finished_at AS f, b.state_at AS at",
                     {"id": lot})[0]


def test_a_unit_commissioned_by_mistake_and_corrected_by_another_serial_is_gone(
        empty_store: Any, other_store: Any) -> None:
    """U3 was keyed in by mistake (the line made U2): declared `incorrect_data`, corrected by the
    commissioning of U2. U3 is in no answer any more; lot LB holds U1 and U2, both in stock."""
    first, wrong, right = made(RIGHT, [U1], "LB", T8), made(WRONG, [U3], "LB"), made(STILL, [U2], "LB")
    import_epcis(empty_store, doc(first, wrong), ACTOR)
    assert lot_units(empty_store, LOT_B) == ({U1, U3}, {"in_stock": 2.0})
    import_epcis(empty_store, doc(declared(wrong, corrective=[STILL]), right), ACTOR)
    assert lot_units(empty_store, LOT_B) == ({U1, U2}, {"in_stock": 2.0})  # the stock count too
    gone_everywhere(empty_store, U3)
    assert verify(empty_store).ok
    row = empty_store.run("MATCH (e:EpcisEvent {id: $id}) RETURN e.error_declared AS d, e.original_json AS o, "
                          "e.json AS j", {"id": WRONG})[0]
    assert row["d"] is True and json.loads(row["o"])["epcList"] == [U3]  # both versions on record
    assert json.loads(row["j"])["errorDeclaration"]["correctiveEventIDs"] == [STILL]
    import_epcis(other_store, doc(first), ACTOR)
    import_epcis(other_store, doc(right), ACTOR)
    assert business(empty_store, WRONG) == business(other_store, WRONG)


def test_a_unit_a_later_event_still_names_stays_with_the_state_it_gives(empty_store: Any, other_store: Any) -> None:
    """U1 and U2 commissioned into lot LA by mistake; U1 shipped to H1 afterwards; the declaration
    corrects U2 into lot LB. U1 stays (the shipment names it), in transit to H1, of no lot; lot LA,
    which only the erroneous event named, is gone."""
    wrong, right = made(WRONG, [U1, U2], "LA"), made(RIGHT, [U2], "LB")
    later = ship(STILL, [U1], H1)
    import_epcis(empty_store, doc(wrong), ACTOR)
    import_epcis(empty_store, doc(later), ACTOR)
    import_epcis(empty_store, doc(declared(wrong, corrective=[RIGHT]), right), ACTOR)
    where, _ = answers(empty_store, [U1, U2])
    assert where == {U1: ("in_transit", H1), U2: ("in_stock", None)}
    u1 = empty_store.run("MATCH (s:Serial {id: $id}) OPTIONAL MATCH (b:Batch)-[:PRODUCED]->(s) "
                         "RETURN s.batch_id AS bid, s.udi AS udi, b.id AS b", {"id": U1})[0]
    assert u1["bid"] is None and u1["b"] is None and "(10)" not in (u1["udi"] or "")  # no lot in its UDI
    assert empty_store.run("MATCH (b:Batch {id: $id}) RETURN count(b) AS c", {"id": LOT_A})[0]["c"] == 0
    assert verify(empty_store).ok
    import_epcis(other_store, doc(later), ACTOR)
    import_epcis(other_store, doc(right), ACTOR)
    assert business(empty_store, WRONG) == business(other_store, WRONG)


def test_batch_times_set_by_erroneous_commissionings_are_recomputed(empty_store: Any, other_store: Any) -> None:
    """Lot LB: U1 commissioned at 10:00; by mistake U2 at 08:00 (moved the start) and U3 at 12:00
    (moved the finish). Both declared `did_not_occur` in one document: the batch started and
    finished at 10:00, as U1's commissioning alone says."""
    first = made(RIGHT, [U1], "LB", T10)
    early, late = made(EARLY, [U2], "LB", T8), made(LATE, [U3], "LB", T12)
    import_epcis(empty_store, doc(first), ACTOR)
    import_epcis(empty_store, doc(early, late), ACTOR)
    assert (batch(empty_store, LOT_B)["s"], batch(empty_store, LOT_B)["f"]) == (
        "2026-05-03T06:00:00.000000+00:00", "2026-05-03T10:00:00.000000+00:00")
    import_epcis(empty_store, doc(declared(early, reason="did_not_occur"), declared(late, reason="did_not_occur")),
                 ACTOR)
    b = batch(empty_store, LOT_B)
    assert (b["s"], b["f"]) == ("2026-05-03T08:00:00.000000+00:00", "2026-05-03T08:00:00.000000+00:00")
    assert json.loads(b["at"]) == {"started_at": "2026-05-03T08:00:00.000000+00:00",
                                   "finished_at": "2026-05-03T08:00:00.000000+00:00"}
    assert lot_units(empty_store, LOT_B) == ({U1}, {"in_stock": 1.0})
    gone_everywhere(empty_store, U2)
    gone_everywhere(empty_store, U3)
    assert verify(empty_store).ok
    import_epcis(other_store, doc(first), ACTOR)
    drop = {EARLY, LATE}
    ours, theirs = business(empty_store, EARLY), business(other_store, EARLY)
    assert ([n for n in ours[0] if not any(d in n[1] for d in drop)], [e for e in ours[1] if e[1] not in drop]) \
        == ([n for n in theirs[0] if not any(d in n[1] for d in drop)], [e for e in theirs[1] if e[1] not in drop])


def test_an_erp_batch_keeps_its_start_and_its_finish_follows_the_remaining_events(
        empty_store: Any, tmp_path: Any) -> None:
    """Lot LA is an ERP batch (started 06:00 UTC by the ERP). U2 commissioned into it at 10:00, U1 by
    mistake at 12:00 (moved the finish). Declared: the finish is 10:00 again, the ERP's start never
    moved; U1, which EPCIS made, is gone, the ERP batch stays."""
    from tracegraph.engine.imports.runner import run_import
    from tracegraph.loaders.bundle import load_bundle

    erp = tmp_path / "erp"
    erp.mkdir()
    (erp / "products.csv").write_text(f"id,name,gtin\n{GTIN},Pump,{GTIN}\n", encoding="utf-8")
    (erp / "batches.csv").write_text("id,product_id,qty,uom,started_at,finished_at,kind\n"
                                     f"{LOT_A},{GTIN},2,ea,2026-05-03T06:00:00Z,2026-05-03T18:00:00Z,finished\n",
                                     encoding="utf-8")
    b = load_bundle(erp)
    assert run_import(empty_store, b.batch, ACTOR, source_files=b.files).status == "committed"
    start = batch(empty_store, LOT_A)["s"]
    wrong = made(WRONG, [U1], "LA", T12)
    import_epcis(empty_store, doc(made(RIGHT, [U2], "LA", T10)), ACTOR)
    import_epcis(empty_store, doc(wrong), ACTOR)
    assert batch(empty_store, LOT_A)["f"] == "2026-05-03T10:00:00.000000+00:00"
    import_epcis(empty_store, doc(declared(wrong, reason="incorrect_data")), ACTOR)
    got = batch(empty_store, LOT_A)
    assert got["s"] == start and got["f"] == "2026-05-03T08:00:00.000000+00:00"
    assert "started_at" not in json.loads(got["at"])
    assert lot_units(empty_store, LOT_A)[0] == {U2}
    gone_everywhere(empty_store, U1)
    assert verify(empty_store).ok


def test_a_quarantined_unit_commissioned_by_mistake_is_refused_and_nothing_is_written(empty_store: Any) -> None:
    """QA quarantined U3 before the commissioning was declared erroneous: the unit cannot vanish
    under QA's hold. Refused naming it; nothing written."""
    wrong = made(WRONG, [U3], "LB")
    import_epcis(empty_store, doc(made(RIGHT, [U1], "LB"), wrong), ACTOR)
    commands.set_status(empty_store, "Serial", U3, "quarantined", ACTOR, reason="label misprint")
    before, seq = snapshot(empty_store), head(empty_store)["seq"]
    with pytest.raises(Conflict) as refused:
        import_epcis(empty_store, doc(declared(wrong)), ACTOR)
    assert U3 in str(refused.value) and "quarantined" in str(refused.value)
    assert head(empty_store)["seq"] == seq and snapshot(empty_store) == before
    assert verify(empty_store).ok


def test_a_commissioning_and_its_declaration_in_one_document_make_no_unit(empty_store: Any, other_store: Any) -> None:
    wrong, right = made(WRONG, [U3], "LA"), made(RIGHT, [U2], "LB")
    import_epcis(empty_store, doc(wrong, declared(wrong, corrective=[RIGHT]), right), ACTOR)
    gone_everywhere(empty_store, U3)
    assert verify(empty_store).ok
    import_epcis(other_store, doc(right), ACTOR)
    assert business(empty_store, WRONG) == business(other_store, WRONG)


def test_the_product_only_a_mistaken_unit_named_goes_with_it(empty_store: Any) -> None:
    """U9 of another GTIN was commissioned by mistake into its own lot: the unit, the lot and the
    Product EPCIS made for that GTIN are gone; the other product, which U1 still is of, stays."""
    u9 = "urn:epc:id:sgtin:4012345.022222.9"
    wrong = {**made(WRONG, [u9], "LX"), "ilmd": {"cbvmda:lotNumber": "LX"}}
    import_epcis(empty_store, doc(made(RIGHT, [U1], "LB"), wrong), ACTOR)
    products = "MATCH (p:Product) RETURN p.id AS id ORDER BY id"
    assert len(empty_store.run(products)) == 2
    import_epcis(empty_store, doc(declared(wrong, reason="did_not_occur")), ACTOR)
    assert empty_store.run(products) == [{"id": GTIN}]
    assert empty_store.run("MATCH (b:Batch) RETURN b.id AS id") == [{"id": LOT_B}]
    gone_everywhere(empty_store, u9)
    assert verify(empty_store).ok
