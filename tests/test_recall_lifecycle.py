"""Recall lifecycle on the real database: create (snapshot), approve (signature, two-person rule),
start (quarantine), notify, returns, effectiveness, close; every refusal; audit entries."""

from __future__ import annotations

import json

import pytest

from test_recall_plant import APPROVER, AUTHOR, LOGISTICS, build, clock
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import Conflict, NotFound, PermissionDenied, SignatureError, ValidationFailed
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.recall.returns import assert_can_ship, reconcile, record_returns
from tracegraph.engine.recall.scope import AffectedSet, identify
from tracegraph.engine.trace.models import ImpactCause


def _data(**kw):
    base = dict(jurisdiction="CN-NMPA", recall_class="II", type="removal", reason="seal may leak",
                health_hazard="infection risk, reversible", responsible="alice")
    base.update(kw)
    return R.RecallCreate(**base)


def _audit(store, key):
    return store.run("MATCH (e:AuditEntry {target_key: $k}) RETURN e.action AS action, e.changes AS changes "
                     "ORDER BY e.seq", {"k": key}, write=False)


@pytest.mark.req("REQ-RCL-001")
def test_identify_and_create_snapshot(empty_store) -> None:
    ids = build(empty_store)
    aff = identify(empty_store, ImpactCause(lots=["L1"]))
    assert {s.id for s in aff.serials} == set(ids["b1"])
    units = {c.id: c.units for c in aff.customers}
    assert units == {"D1": 4.0, "H1": 4.0}  # 3 at end user + 1 in transit
    ck = clock()
    created = R.create_recall(empty_store, AUTHOR, _data(), aff, clock=ck)
    rec = created.recall
    assert rec.status == "draft" and rec.serials_covered == 10 and rec.customers_affected == 2
    assert rec.decision_at.startswith("2026-03-02T01:00") and rec.created_by == "alice"
    rows = empty_store.run("MATCH (:Recall {id: $id})-[c:COVERS]->(s:Serial) RETURN s.id AS id, "
                           "c.status_at_decision AS st", {"id": rec.id}, write=False)
    assert len(rows) == 10 and {r["st"] for r in rows} == {"at_distributor", "at_end_user", "in_transit", "in_stock"}
    audit = _audit(empty_store, rec.id)
    assert [a["action"] for a in audit] == ["recall.create"]  # one entry for the whole snapshot
    cov = [c for c in json.loads(audit[0]["changes"]) if c["field"] == "covered"][0]
    assert cov["new"]["serials"] == 10


@pytest.mark.req("REQ-RCL-002")
def test_full_lifecycle_with_refusals(empty_store) -> None:
    ids = build(empty_store)
    ck = clock()
    rec = R.create_recall_from_cause(empty_store, AUTHOR, _data(), ImpactCause(batches=["B1"]), clock=ck).recall
    # refusals before approval
    with pytest.raises(Conflict, match="needs it to be approved"):
        R.start(empty_store, AUTHOR, rec.id, clock=ck)
    with pytest.raises(SignatureError, match="two-person|author"):
        R.approve(empty_store, AUTHOR, rec.id, password="pw", reason="ok", clock=ck)
    with pytest.raises(PermissionDenied):
        R.approve(empty_store, LOGISTICS, rec.id, password="pw", reason="ok", clock=ck)
    with pytest.raises(SignatureError, match="password"):
        R.approve(empty_store, APPROVER, rec.id, password="", reason="ok", clock=ck)
    ck.advance(hours=1)
    rec = R.approve(empty_store, APPROVER, rec.id, password="pw", reason="hazard confirmed", clock=ck)
    assert rec.status == "approved" and rec.approved_by == "bob"
    sigs = R.signatures(empty_store, rec.id)
    assert [s["meaning"] for s in sigs] == ["approved"] and sigs[0]["signer_name"] == "Bob Approver"
    with pytest.raises(Conflict, match="only a draft"):
        R.approve(empty_store, APPROVER, rec.id, password="pw", reason="again", clock=ck)
    # shipping is blocked as soon as a real recall covers the unit
    with pytest.raises(Conflict, match="may not ship"):
        assert_can_ship(empty_store, [ids["b1"][8]])
    assert_can_ship(empty_store, ids["b2"], ["B2"])  # unaffected batch ships
    with pytest.raises(Conflict, match="Batch B1"):
        assert_can_ship(empty_store, [], ["B1"])
    # start: quarantine of the two units in stock
    rec = R.start(empty_store, LOGISTICS, rec.id, clock=ck)
    assert rec.status == "in_progress" and rec.quarantined_serials == 2
    st = empty_store.run("MATCH (s:Serial) WHERE s.id IN $ids RETURN collect(s.status) AS st",
                         {"ids": ids["b1"][8:]}, write=False)[0]["st"]
    assert st == ["quarantined", "quarantined"]
    # returns
    with pytest.raises(ValidationFailed, match="not covered"):
        record_returns(empty_store, LOGISTICS, rec.id, "D1", "returned", scans=[ids["b2"][0]], clock=ck)
    record_returns(empty_store, LOGISTICS, rec.id, "D1", "returned", scans=ids["b1"][:3], clock=ck)
    with pytest.raises(ValidationFailed, match="already accounted"):
        record_returns(empty_store, LOGISTICS, rec.id, "D1", "returned", scans=ids["b1"][:1], clock=ck)
    record_returns(empty_store, LOGISTICS, rec.id, "H1", "destroyed", qty=2, clock=ck)
    rc = reconcile(empty_store, rec.id)
    d1 = next(c for c in rc.customers if c.customer == "D1")
    assert (d1.expected, d1.returned, d1.accounted, d1.unaccounted) == (4.0, 3.0, 3.0, 1.0)
    assert rc.expected == 8 and rc.accounted == 5 and rc.pct == pytest.approx(62.5)
    returned = empty_store.run("MATCH (s:Serial)-[:RETURNED_IN]->(r:Return) RETURN s.status AS st, "
                               "r.customer_id AS c", write=False)
    assert len(returned) == 3 and {r["st"] for r in returned} == {"returned"} and returned[0]["c"] == "D1"
    # effectiveness check and closure refused below target (class II: 95 %)
    with pytest.raises(Conflict, match="close needs effectiveness_check"):
        R.close(empty_store, APPROVER, rec.id, password="pw", reason="done", clock=ck)
    rec = R.complete(empty_store, LOGISTICS, rec.id, clock=ck)
    with pytest.raises(Conflict, match="below the class II target"):
        R.close(empty_store, APPROVER, rec.id, password="pw", reason="done", clock=ck)
    with pytest.raises(SignatureError):
        R.close(empty_store, AUTHOR, rec.id, password="pw", reason="done", exception_justification="x", clock=ck)
    rec = R.close(empty_store, APPROVER, rec.id, password="pw", reason="done",
                  exception_justification="remaining units implanted; patients followed up", clock=ck)
    assert rec.status == "closed" and rec.exception and rec.effectiveness_pct == pytest.approx(62.5)
    assert [s["meaning"] for s in R.signatures(empty_store, rec.id)] == ["approved", "closed", "exception"]
    with pytest.raises(Conflict):
        R.cancel(empty_store, APPROVER, rec.id, reason="late", clock=ck)
    actions = [a["action"] for a in _audit(empty_store, rec.id)]
    assert actions == ["recall.create", "recall.approve", "recall.start", "recall.quarantine",
                       "recall.return.returned", "recall.return.destroyed", "recall.complete", "recall.close"]
    # closed recall no longer blocks shipping, the quarantine status still does
    assert_can_ship(empty_store, ids["b1"][7:8])
    with pytest.raises(Conflict, match="quarantined"):
        assert_can_ship(empty_store, ids["b1"][8:9])


@pytest.mark.req("REQ-RCL-002")
def test_close_at_target_needs_no_exception_and_cancel(empty_store) -> None:
    build(empty_store)
    ck = clock()
    rec = R.create_recall_from_cause(empty_store, AUTHOR, _data(recall_class="III"), ImpactCause(batches=["B1"]),
                                     clock=ck).recall
    R.approve(empty_store, APPROVER, rec.id, password="pw", reason="ok", clock=ck)
    R.start(empty_store, AUTHOR, rec.id, clock=ck)
    record_returns(empty_store, AUTHOR, rec.id, "D1", "returned", qty=4, clock=ck)
    record_returns(empty_store, AUTHOR, rec.id, "H1", "corrected", qty=4, clock=ck)
    R.complete(empty_store, AUTHOR, rec.id, clock=ck)
    rec = R.close(empty_store, APPROVER, rec.id, password="pw", reason="all accounted", clock=ck)
    assert rec.status == "closed" and rec.exception is None and rec.effectiveness_pct == 100.0
    other = R.create_recall_from_cause(empty_store, AUTHOR, _data(), ImpactCause(batches=["B1"]), clock=ck).recall
    with pytest.raises(ValidationFailed):
        R.cancel(empty_store, APPROVER, other.id, reason=" ", clock=ck)
    assert R.cancel(empty_store, APPROVER, other.id, reason="duplicate", clock=ck).status == "cancelled"


@pytest.mark.req("REQ-RCL-002")
def test_empty_scope_and_bad_input_refused(empty_store) -> None:
    build(empty_store)
    with pytest.raises((ValidationFailed, NotFound)):
        R.create_recall_from_cause(empty_store, AUTHOR, _data(), ImpactCause(batches=["NOPE"]), clock=clock())
    with pytest.raises(ValidationFailed, match="empty"):
        R.create_recall(empty_store, AUTHOR, _data(), AffectedSet(), clock=clock())
    with pytest.raises(ValueError):
        _data(reason="  ")
    viewer = Actor(id="vic", name="Vic Viewer", roles=frozenset({"viewer"}))
    with pytest.raises(PermissionDenied):
        R.create_recall_from_cause(empty_store, viewer, _data(), ImpactCause(batches=["B1"]), clock=clock())


@pytest.mark.req("REQ-RCL-002")
def test_audit_chain_verifies_and_signatures_are_listed_centrally(empty_store) -> None:
    from tracegraph.engine.audit.signatures import signature_status
    from tracegraph.engine.audit.verify import verify

    build(empty_store)
    ck = clock()
    rec = R.create_recall_from_cause(empty_store, AUTHOR, _data(recall_class="I"), ImpactCause(batches=["B1"]),
                                     clock=ck).recall
    R.approve(empty_store, APPROVER, rec.id, password="pw", reason="ok", clock=ck)
    central = signature_status(empty_store, "Recall", rec.id)
    assert [(s.meaning, s.signer_id, s.valid) for s in central] == [("approved", "bob", True)]
    R.start(empty_store, LOGISTICS, rec.id, clock=ck)
    record_returns(empty_store, LOGISTICS, rec.id, "D1", "returned", scans=["B1-S0001"], clock=ck)
    R.record_milestone(empty_store, LOGISTICS, rec.id, "progress_report", clock=ck)
    R.record_milestone(empty_store, LOGISTICS, rec.id, "authority_report", reference="X-1", clock=ck)
    report = verify(empty_store)
    assert report.ok, report.problems[:5]


@pytest.mark.req("REQ-RCL-001")
def test_fallback_identification_matches_impact(empty_store) -> None:
    """Without the impact engine the recall's own forward trace finds the same units, and places
    non-serialised quantities (shipped, transferred on, in stock)."""
    from plantbuilder import Plant

    ids = build(empty_store)
    p = Plant()
    p.lot("L7", "S7", material="M7")
    p.batch("NS", product="P3", inputs=["L7"], qty=100)
    p.nodes["Product"].pop("P1", None)
    p.customer("D7", kind="distributor")
    p.customer("H7", kind="hospital")
    p.shipment("SH70", "D7", "2026-02-15", "2026-02-16", batches={"NS": 60})
    p.shipment("SH71", "H7", "2026-02-20", "2026-02-22", batches={"NS": 20}, from_id="D7")
    p.write(empty_store)
    a = identify(empty_store, ImpactCause(lots=["L1"]), use_impact=False)
    b = identify(empty_store, ImpactCause(lots=["L1"]))
    assert {s.id for s in a.serials} == {s.id for s in b.serials} == set(ids["b1"])
    assert {c.id: c.units for c in a.customers} == {c.id: c.units for c in b.customers}
    q = identify(empty_store, ImpactCause(lots=["L7"]), use_impact=False)
    held = {(x.customer, x.status): x.qty for x in q.quantities}
    assert held == {("D7", "at_distributor"): 40.0, ("H7", "at_end_user"): 20.0, (None, "in_stock"): 40.0}
    assert {c.id: c.units for c in q.customers} == {"D7": 40.0, "H7": 20.0}


def test_start_quarantines_the_suspect_lot_remaining_stock_and_says_so(empty_store) -> None:
    build(empty_store)
    ck = clock()
    rec = R.create_recall_from_cause(empty_store, AUTHOR, _data(), ImpactCause(lots=["L1"]), clock=ck).recall
    ck.advance(hours=1)
    R.approve(empty_store, APPROVER, rec.id, password="pw", reason="hazard confirmed", clock=ck)
    assert empty_store.run("MATCH (l:MaterialLot {id: 'L1'}) RETURN l.status AS s", write=False)[0]["s"] == "available"
    rec = R.start(empty_store, LOGISTICS, rec.id, clock=ck)
    assert rec.quarantined_lots == ["L1"] and rec.quarantined_serials == 2
    lot = empty_store.run("MATCH (l:MaterialLot {id: 'L1'}) RETURN l.status AS s, l.quarantine_recall AS r, "
                          "l.status_before_quarantine AS b", write=False)[0]
    assert lot == {"s": "quarantined", "r": rec.id, "b": "available"}
    entry = [a for a in _audit(empty_store, rec.id) if a["action"] == "recall.quarantine"]
    assert len(entry) == 1 and any(c["field"] == "suspect_lots" and c["new"] == ["L1"]
                                   for c in json.loads(entry[0]["changes"]))
