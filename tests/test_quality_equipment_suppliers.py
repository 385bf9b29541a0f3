"""Supplier qualification, equipment calibration, the two batch questions, and untrained signers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tracegraph.engine.access import auth
from tracegraph.engine.clock import FrozenClock
from tracegraph.engine.errors import PermissionDenied, ValidationFailed
from tracegraph.engine.qms import CHANGE_CONTROL, get_record, move, open_record
from tracegraph.engine.qms.equipment import batches_on_overdue_equipment, calibration_schedule, record_calibration
from tracegraph.engine.qms.insights import released_batches_with_rejected_lots
from tracegraph.engine.qms.suppliers import lots_from_unapproved_suppliers, supplier_list
from tracegraph.engine.qms.types import SUPPLIER

PW = {"admin": "Root-Passw0rd-1!", "qa.ann": "Ann-Passw0rd-QA!", "qa.bob": "Bob-Passw0rd-QA!", "qa.cy": "Cy-Passw0rd-QA1!"}


@pytest.fixture(scope="module")
def users(store):  # type: ignore[no-untyped-def]
    auth.init_admin(store, "admin", "Ada Admin", PW["admin"])
    admin = auth.authenticate(store, "admin", PW["admin"], session="s-admin")
    auth.add_user(store, admin, "qa.ann", "Ann Author", PW["qa.ann"], ["qa_manager"])
    auth.add_user(store, admin, "qa.bob", "Bob Approver", PW["qa.bob"], ["qa_manager"])
    auth.add_user(store, admin, "qa.cy", "Cy Inspector", PW["qa.cy"], ["qa"])
    return {u: auth.authenticate(store, u, PW[u], session=f"s-{u}") for u in PW}


@pytest.mark.req("REQ-QMS-006")
def test_supplier_qualification_history_and_unapproved_receipts(store, users) -> None:  # type: ignore[no-untyped-def]
    ann, bob = users["qa.ann"], users["qa.bob"]
    sup = open_record(store, SUPPLIER, ann, {"name": "Resin Co", "country": "DE"}, key="SUP-9")
    assert sup.status == "pending" and sup.next_steps == ["qualify", "conditional", "disqualify"]
    with pytest.raises(PermissionDenied):
        move(store, SUPPLIER, users["qa.cy"], "SUP-9", "qualify", password=PW["qa.cy"],
             fields={"qualified_until": "2026-06-30", "qualification_basis": "audit A-1"})
    move(store, SUPPLIER, bob, "SUP-9", "qualify", password=PW["qa.bob"], username="qa.bob",
         fields={"qualified_until": "2026-06-30", "qualification_basis": "audit A-1", "effective_from": "2026-01-01"})
    with pytest.raises(ValidationFailed, match="reason"):
        move(store, SUPPLIER, bob, "SUP-9", "conditional", password=PW["qa.bob"], fields={"qualified_until": "2026-04-30"})
    move(store, SUPPLIER, bob, "SUP-9", "conditional", password=PW["qa.bob"], reason="2 rejected lots",
         fields={"qualified_until": "2026-04-30", "effective_from": "2026-03-01"})
    s = move(store, SUPPLIER, bob, "SUP-9", "disqualify", password=PW["qa.bob"], reason="audit failed",
             fields={"effective_from": "2026-05-01"})
    assert s.status == "disqualified" and "qualified_until" not in s.props
    assert s.props["history"] == ["2026-01-01|approved|2026-06-30", "2026-03-01|conditional|2026-04-30",
                                  "2026-05-01|disqualified|"]
    assert [x["meaning"] for x in s.signatures] == ["approved"] * 3
    store.run("""
      MATCH (s:Supplier {id: 'SUP-9'})
      CREATE (old:Supplier {id: 'SUP-8', name: 'Old Co', status: 'approved', qualified_until: '2026-02-01'}),
        (s)-[:SUPPLIED {date: '2025-12-15'}]->(:MaterialLot {id: 'L-a'}),
        (s)-[:SUPPLIED {date: '2026-02-01'}]->(:MaterialLot {id: 'L-b'}),
        (s)-[:SUPPLIED]->(:MaterialLot {id: 'L-c', received_at: '2026-03-15T10:00:00+00:00'}),
        (s)-[:SUPPLIED {date: '2026-05-10'}]->(:MaterialLot {id: 'L-d'}),
        (old)-[:SUPPLIED {date: '2026-01-10'}]->(:MaterialLot {id: 'L-e'}),
        (old)-[:SUPPLIED {date: '2026-03-01'}]->(:MaterialLot {id: 'L-f'})
    """)
    flagged = {r.lot: r for r in lots_from_unapproved_suppliers(store)}
    assert set(flagged) == {"L-a", "L-d", "L-f"}
    assert flagged["L-a"].supplier_status == "pending" and flagged["L-d"].supplier_status == "disqualified"
    assert flagged["L-f"].why == "qualification expired 2026-02-01"
    assert [r.lot for r in lots_from_unapproved_suppliers(store, "SUP-8")] == ["L-f"]
    clock = FrozenClock(datetime(2026, 1, 20, tzinfo=UTC))
    assert [(r.supplier, r.days_left) for r in supplier_list(store, expiring_within=30, clock=clock)] == [("SUP-8", 12)]
    assert supplier_list(store, expiring_within=5, clock=clock) == []
    assert {r.supplier: r.status for r in supplier_list(store)} == {"SUP-8": "approved", "SUP-9": "disqualified"}


PLANT = """
CREATE (e7:Equipment {id: 'EQ-7', name: 'oven'}), (e8:Equipment {id: 'EQ-8', calibration_due_at: '2026-03-20'}),
  (:Equipment {id: 'EQ-9'}), (:Equipment {id: 'EQ-10', calibration_due_at: '2026-12-01'}),
  (b0:Batch {id: 'B-before', status: 'released'}), (b1:Batch {id: 'B-ok', status: 'released'}),
  (b2:Batch {id: 'B-late', status: 'released'}), (b3:Batch {id: 'B-wip', status: 'in_process'}),
  (b0)-[:PROCESSED_ON {from: '2025-12-01T08:00:00+00:00', to: '2025-12-01T10:00:00+00:00'}]->(e7),
  (b1)-[:PROCESSED_ON {from: '2026-01-15T08:00:00+00:00', to: '2026-01-15T10:00:00+00:00'}]->(e7),
  (b2)-[:PROCESSED_ON {from: '2026-02-10T08:00:00+00:00', to: '2026-02-10T10:00:00+00:00'}]->(e7),
  (b3)-[:PROCESSED_ON {from: '2026-02-11T08:00:00+00:00', to: '2026-02-11T10:00:00+00:00'}]->(e7),
  (b1)-[:PRODUCED]->(:Serial {id: 'S-ok'}), (b2)-[:PRODUCED]->(:Serial {id: 'S-late'})
"""


@pytest.mark.req("REQ-QMS-006")
def test_calibration_records_schedule_and_out_of_tolerance_impact(store, users) -> None:  # type: ignore[no-untyped-def]
    store.run(PLANT)
    ann = users["qa.ann"]
    with pytest.raises(ValidationFailed, match="due"):
        record_calibration(store, ann, "EQ-7", on="2026-01-01", result="pass")
    ok = record_calibration(store, ann, "EQ-7", on="2026-01-01", result="pass", due_at="2026-02-01", certificate="C-77")
    assert ok.impact is None and ok.record.concerns == [{"id": "EQ-7", "label": "Equipment"}]
    assert store.run("MATCH (:Calibration {id: $id})-[:CALIBRATES]->(e:Equipment) RETURN e.id AS e",
                     {"id": ok.record.id}, write=False) == [{"e": "EQ-7"}]
    clock = FrozenClock(datetime(2026, 1, 25, tzinfo=UTC))
    sched = {r.equipment: r for r in calibration_schedule(store, due_within=10, clock=clock)}
    assert sched["EQ-7"].state == "due_soon" and sched["EQ-7"].days_left == 7
    bad = record_calibration(store, ann, "EQ-7", on="2026-03-01", result="out_of_tolerance")
    assert bad.impact is not None and bad.impact.last_good["id"] == ok.record.id
    assert (bad.impact.window_from, bad.impact.window_to) == ("2026-01-01", "2026-03-01")
    assert sorted(b["id"] for b in bad.impact.impact["batches"]) == ["B-late", "B-ok", "B-wip"]
    eq = store.run("MATCH (e:Equipment {id: 'EQ-7'}) RETURN properties(e) AS p", write=False)[0]["p"]
    assert eq["calibration_due_at"] == "2026-03-01" and eq["last_calibration_result"] == "out_of_tolerance"
    m = record_calibration(store, ann, "EQ-8", on="2026-03-05", result="pass", kind="maintenance")
    assert m.impact is None and m.record.props["kind"] == "maintenance"  # no due date needed, schedule unchanged
    clock = FrozenClock(datetime(2026, 3, 10, tzinfo=UTC))
    sched = {r.equipment: r.state for r in calibration_schedule(store, due_within=15, clock=clock)}
    assert sched == {"EQ-7": "out_of_calibration", "EQ-8": "due_soon", "EQ-9": "never_calibrated"}
    assert len(calibration_schedule(store, clock=clock)) == 4  # no filter: all, EQ-10 ok


def test_batches_made_on_equipment_with_overdue_calibration(store, users) -> None:  # type: ignore[no-untyped-def]
    rows = {r.batch: r for r in batches_on_overdue_equipment(store, "EQ-7")}
    assert set(rows) == {"B-before", "B-late", "B-wip"}
    assert rows["B-late"].why == "calibration due 2026-02-01 before the end of use 2026-02-10T10:00:00+00:00"
    assert rows["B-before"].why.startswith("no calibration before")
    assert [r.batch for r in batches_on_overdue_equipment(store, status="released")] == ["B-before", "B-late"]


def test_released_batches_using_a_lot_rejected_later(store, users) -> None:  # type: ignore[no-untyped-def]
    store.run("""
      CREATE (rel:Batch {id: 'B-rel', status: 'released', released_at: '2026-03-15T09:00:00+00:00'}),
             (rel2:Batch {id: 'B-rel2', status: 'released'}), (sub:Batch {id: 'B-sub'}),
             (wip:Batch {id: 'B-open', status: 'in_process'}), (good:Batch {id: 'B-good', status: 'released'}),
             (l1:MaterialLot {id: 'LOT-1'}), (l2:MaterialLot {id: 'LOT-2'}), (l3:MaterialLot {id: 'LOT-3'}),
             (l1)-[:CONSUMED_IN]->(rel), (l1)-[:CONSUMED_IN]->(wip), (l2)-[:CONSUMED_IN]->(sub)-[:CONSUMED_IN]->(rel2),
             (l3)-[:CONSUMED_IN]->(good),
             (:Inspection {id: 'IN-1', result: 'accept', date: '2026-03-01'})-[:INSPECTED]->(l1),
             (:Inspection {id: 'IN-2', result: 'reject', date: '2026-04-01'})-[:INSPECTED]->(l1),
             (:Inspection {id: 'IN-3', result: 'accept', status: 'reopened', date: '2026-03-01'})-[:INSPECTED]->(l2),
             (:Inspection {id: 'IN-4', result: 'accept', date: '2026-03-01'})-[:INSPECTED]->(l3)
    """)
    rows = released_batches_with_rejected_lots(store)
    assert [(r.batch, r.lot, r.inspection) for r in rows] == [("B-rel", "LOT-1", "IN-2"), ("B-rel2", "LOT-2", "IN-3")]
    assert rows[0].after_release is True and rows[1].after_release is None


def test_cli_suppliers_equipment_and_questions(store, users, embedded_server) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from tracegraph.cli import app

    env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": store.graph_name,
           "TRACEGRAPH_USER": "qa.ann", "TRACEGRAPH_PASSWORD": PW["qa.ann"]}
    run = CliRunner().invoke
    r = run(app, ["qms", "suppliers", "--unapproved-receipts", "--json"], env=env)
    assert r.exit_code == 0 and {x["lot"] for x in json.loads(r.stdout)} == {"L-a", "L-d", "L-f"}, r.output
    r = run(app, ["qms", "suppliers", "--expiring-within", "36500", "--json"], env=env)
    assert [x["supplier"] for x in json.loads(r.stdout)] == ["SUP-8"]
    r = run(app, ["qms", "equipment", "--due-within", "30", "--json"], env=env)
    assert {x["equipment"] for x in json.loads(r.stdout)} >= {"EQ-7", "EQ-8", "EQ-9"}
    r = run(app, ["qms", "released-rejected-lots", "--json"], env=env)
    assert [x["batch"] for x in json.loads(r.stdout)] == ["B-rel", "B-rel2"]
    r = run(app, ["qms", "overdue-calibration-batches", "--status", "released", "--json"], env=env)
    assert [x["batch"] for x in json.loads(r.stdout)] == ["B-before", "B-late"]
    r = run(app, ["qms", "calibrate", "EQ-9", "--date", "2026-03-02", "--result", "out_of_tolerance", "--json"], env=env)
    assert r.exit_code == 0 and json.loads(r.stdout)["impact"]["last_good"] is None, r.output
    r = run(app, ["qms", "calibrate", "EQ-8", "--date", "2026-03-02", "--result", "pass"], env=env)
    assert r.exit_code != 0 and "due" in r.output


RELEASE_PLANT = """
CREATE (b:Batch {id: 'B-9', status: 'in_process', started_at: '2026-03-10T08:00:00+00:00'}),
       (e:Equipment {id: 'EQ-1'}), (c1:Calibration {id: 'C-1', date: '2026-01-05', result: 'pass', due_at: '2026-07-05'}),
       (d:Document {id: 'SOP-7@3', doc_id: 'SOP-7', version: '3', status: 'effective', effective_from: '2026-01-01'}),
       (:TrainingRecord {id: 'TR-1', user_id: 'op.olga', document_id: 'SOP-7@3', trained_at: '2026-02-01'}),
       (:TrainingRecord {id: 'TR-2', user_id: 'qa.rita', document_id: 'SOP-7@3', trained_at: '2026-02-01'}),
       (b)-[:PROCESSED_ON {from: '2026-03-10T08:00:00+00:00', to: '2026-03-10T16:00:00+00:00', operator: 'op.olga'}]->(e),
       (c1)-[:CALIBRATES]->(e), (b)-[:DOCUMENTED_BY]->(d)
"""


@pytest.mark.req("REQ-QMS-004")
def test_signatures_by_untrained_people_are_flagged_not_refused(empty_store) -> None:  # type: ignore[no-untyped-def]
    from tracegraph.engine.qms.release import open_release, release, review

    s = empty_store
    s.run(RELEASE_PLANT)
    auth.init_admin(s, "admin", "Ada Admin", PW["admin"])
    admin = auth.authenticate(s, "admin", PW["admin"], session="a")
    auth.add_user(s, admin, "qa.rita", "Rita Reviewer", "Rita-Passw0rd-1!", ["qa_manager"])
    auth.add_user(s, admin, "qa.mo", "Mo Manager", "Mo-Passw0rd-123!", ["qa_manager"])
    rita = auth.authenticate(s, "qa.rita", "Rita-Passw0rd-1!", session="r")
    mo = auth.authenticate(s, "qa.mo", "Mo-Passw0rd-123!", session="m")
    rel = open_release(s, mo, "B-9")
    review(s, rita, rel.id, password="Rita-Passw0rd-1!", username="qa.rita")
    done = release(s, mo, rel.id, password="Mo-Passw0rd-123!", username="qa.mo")
    assert done.status == "released"  # not refused
    assert {x["signer_id"]: x["untrained_on"] for x in done.signatures} == {"qa.rita": [], "qa.mo": ["SOP-7@3"]}
    assert done.flags == ["Mo Manager (qa.mo) signed 'released' without a training record on SOP-7@3"]
    cc = open_record(s, CHANGE_CONTROL, rita, {"title": "t", "change_type": "document", "description": "d",
                                               "justification": "j"}, about={"Document": ["SOP-7@3"]})
    move(s, CHANGE_CONTROL, rita, cc.id, "submit", fields={"impact_assessment": "none"}, password="Rita-Passw0rd-1!",
         username="qa.rita")
    cc = move(s, CHANGE_CONTROL, mo, cc.id, "approve", password="Mo-Passw0rd-123!", username="qa.mo")
    assert cc.status == "approved" and len(cc.flags) == 1 and "qa.mo" in cc.flags[0]
    # a training recorded later, dated before the signature, clears the flag (late entry)
    s.run("CREATE (:TrainingRecord {id: 'TR-3', user_id: 'qa.mo', document_id: 'SOP-7@3', trained_at: '2026-02-01'})")
    assert get_record(s, CHANGE_CONTROL, cc.id).flags == []


def test_inspection_reopen_shows_the_released_batch(store, users) -> None:  # type: ignore[no-untyped-def]
    from tracegraph.engine.qms.types import INSPECTION

    ann, bob = users["qa.ann"], users["qa.bob"]
    ins = open_record(store, INSPECTION, users["qa.cy"], {"lot_id": "LOT-3", "date": "2026-03-01", "result": "accept"},
                      about={"MaterialLot": ["LOT-3"]})
    assert ins.status == "completed" and ins.concerns == [{"id": "LOT-3", "label": "MaterialLot"}]
    assert "B-good" not in [r.batch for r in released_batches_with_rejected_lots(store)]
    move(store, INSPECTION, ann, ins.id, "reopen", reason="supplier recalled the resin")
    assert ("B-good", ins.id) in [(r.batch, r.inspection) for r in released_batches_with_rejected_lots(store)]
    done = move(store, INSPECTION, bob, ins.id, "complete", fields={"result": "reject"}, password=PW["qa.bob"],
                username="qa.bob")
    assert done.status == "completed" and done.props["result"] == "reject" and done.signatures[0]["meaning"] == "approved"
    assert ("B-good", ins.id) in [(r.batch, r.inspection) for r in released_batches_with_rejected_lots(store)]
