"""Batch release: every checklist condition failing alone, and the two-person signed release."""

from __future__ import annotations

import pytest

from tracegraph.engine.access import auth
from tracegraph.engine.errors import SignatureError, ValidationFailed
from tracegraph.engine.qms.release import open_release, release, release_checklist, review

GOOD_PLANT = """
CREATE (b:Batch {id: 'B-9', status: 'in_process', started_at: '2026-03-10T08:00:00+00:00'}),
       (l1:MaterialLot {id: 'L-1'}), (l2:MaterialLot {id: 'L-2'}),
       (i1:Inspection {id: 'I-1', result: 'accept'}), (i2:Inspection {id: 'I-2', result: 'conditional'}),
       (e:Equipment {id: 'EQ-1'}), (c0:Calibration {id: 'C-0', date: '2025-01-01', result: 'fail', due_at: '2025-06-01'}),
       (c1:Calibration {id: 'C-1', date: '2026-01-05', result: 'pass', due_at: '2026-07-05'}),
       (d:Document {id: 'SOP-7@3', effective_from: '2026-01-01'}),
       (old:Document {id: 'SOP-7@2', effective_from: '2025-01-01', effective_to: '2026-01-01'}),
       (t:TrainingRecord {id: 'TR-1', user_id: 'op.olga', document_id: 'SOP-7@3', trained_at: '2026-02-01'}),
       (l1)-[:CONSUMED_IN]->(b), (l2)-[:CONSUMED_IN]->(b), (i1)-[:INSPECTED]->(l1), (i2)-[:INSPECTED]->(l2),
       (b)-[:PROCESSED_ON {from: '2026-03-10T08:00:00+00:00', to: '2026-03-10T16:00:00+00:00', operator: 'op.olga'}]->(e),
       (c0)-[:CALIBRATES]->(e), (c1)-[:CALIBRATES]->(e), (b)-[:DOCUMENTED_BY]->(d), (b)-[:DOCUMENTED_BY]->(old)
"""

BREAK_ONE = {
    "inspections": "MATCH (i:Inspection {id: 'I-2'}) SET i.result = 'reject'",
    "inspection_reopened": "MATCH (i:Inspection {id: 'I-1'}) SET i.status = 'reopened'",
    "deviations": "MATCH (l:MaterialLot {id: 'L-1'}) CREATE (:Deviation {id: 'DEV-1', status: 'open'})-[:ABOUT]->(l)",
    "deviation_on_batch": "MATCH (b:Batch {id: 'B-9'}) CREATE (:Deviation {id: 'DEV-2', status: 'open'})-[:ABOUT]->(b)",
    "calibration": "MATCH (c:Calibration {id: 'C-1'}) SET c.due_at = '2026-03-10T12:00'",
    "training": "MATCH (t:TrainingRecord {id: 'TR-1'}) SET t.document_id = 'SOP-7@2'",
    "batch_status": "MATCH (b:Batch {id: 'B-9'}) SET b.status = 'quarantined'",
}


@pytest.mark.req("REQ-QMS-005")
def test_a_good_batch_passes_every_condition(empty_store) -> None:  # type: ignore[no-untyped-def]
    empty_store.run(GOOD_PLANT)
    cl = release_checklist(empty_store, "B-9")
    assert cl.releasable, cl
    assert [c.name for c in cl.conditions] == ["inspections", "deviations", "calibration", "training", "batch_status"]


@pytest.mark.parametrize("condition", sorted(BREAK_ONE))
@pytest.mark.req("REQ-QMS-005")
def test_each_condition_fails_alone(empty_store, condition: str) -> None:  # type: ignore[no-untyped-def]
    empty_store.run(GOOD_PLANT)
    empty_store.run(BREAK_ONE[condition])
    cl = release_checklist(empty_store, "B-9")
    failing = [c.name for c in cl.conditions if not c.ok]
    assert failing == [{"inspection_reopened": "inspections", "deviation_on_batch": "deviations"}.get(condition, condition)], cl
    assert not cl.releasable


@pytest.mark.req("REQ-QMS-005")
def test_open_deviations_about_the_batch_and_its_lots_are_each_named(empty_store) -> None:  # type: ignore[no-untyped-def]
    empty_store.run(GOOD_PLANT)
    empty_store.run(BREAK_ONE["deviations"])
    empty_store.run(BREAK_ONE["deviation_on_batch"])
    empty_store.run("CREATE (:Deviation {id: 'DEV-3', status: 'open'})-[:ABOUT]->(:MaterialLot {id: 'L-9'})")  # another batch's lot
    empty_store.run("MATCH (b:Batch {id: 'B-9'}) CREATE (:Deviation {id: 'DEV-4', status: 'closed'})-[:ABOUT]->(b)")
    by = {c.name: c for c in release_checklist(empty_store, "B-9").conditions}
    assert sorted(by["deviations"].details) == ["DEV-1 (open) about L-1", "DEV-2 (open) about B-9"]
    assert by["deviations"].why == "2 deviation(s) still open"


@pytest.mark.req("REQ-QMS-005")
def test_missing_inspection_and_missing_calibration_are_named(empty_store) -> None:  # type: ignore[no-untyped-def]
    empty_store.run(GOOD_PLANT)
    empty_store.run("MATCH (i:Inspection {id: 'I-1'}) DETACH DELETE i")
    empty_store.run("MATCH (c:Calibration) DETACH DELETE c")
    cl = release_checklist(empty_store, "B-9")
    by = {c.name: c for c in cl.conditions}
    assert by["inspections"].details == ["L-1: no incoming inspection"]
    assert by["calibration"].details[0].startswith("EQ-1: no calibration before")


@pytest.mark.req("REQ-QMS-005")
def test_signed_two_person_release_marks_the_batch_released(empty_store) -> None:  # type: ignore[no-untyped-def]
    s = empty_store
    s.run(GOOD_PLANT)
    auth.init_admin(s, "admin", "Ada Admin", "Root-Passw0rd-1!")
    admin = auth.authenticate(s, "admin", "Root-Passw0rd-1!", session="a")
    auth.add_user(s, admin, "qa.rita", "Rita Reviewer", "Rita-Passw0rd-1!", ["qa"])
    auth.add_user(s, admin, "qa.mo", "Mo Manager", "Mo-Passw0rd-123!", ["qa_manager"])
    rita = auth.authenticate(s, "qa.rita", "Rita-Passw0rd-1!", session="r")
    mo = auth.authenticate(s, "qa.mo", "Mo-Passw0rd-123!", session="m")
    rel = open_release(s, mo, "B-9")  # the reviewer may not be the one who opened it
    s.run(BREAK_ONE["deviations"])
    with pytest.raises(ValidationFailed, match="deviations"):
        review(s, rita, rel.id, password="Rita-Passw0rd-1!", username="qa.rita")
    s.run("MATCH (d:Deviation {id: 'DEV-1'}) SET d.status = 'closed'")
    review(s, rita, rel.id, password="Rita-Passw0rd-1!", username="qa.rita")
    auth.set_roles(s, admin, "qa.rita", ["qa_manager"])
    rita = auth.authenticate(s, "qa.rita", "Rita-Passw0rd-1!", session="r2")
    with pytest.raises(SignatureError, match="reviewer"):
        release(s, rita, rel.id, password="Rita-Passw0rd-1!", username="qa.rita")
    assert s.run("MATCH (b:Batch {id: 'B-9'}) RETURN b.status AS s", write=False)[0]["s"] == "in_process"
    done = release(s, mo, rel.id, password="Mo-Passw0rd-123!", username="qa.mo")
    assert done.status == "released"
    assert [(x["meaning"], x["signer_id"]) for x in done.signatures] == [("reviewed", "qa.rita"), ("released", "qa.mo")] \
        or {(x["meaning"], x["signer_id"]) for x in done.signatures} == {("reviewed", "qa.rita"), ("released", "qa.mo")}
    assert s.run("MATCH (b:Batch {id: 'B-9'}) RETURN b.status AS s", write=False)[0]["s"] == "released"
    assert not release_checklist(s, "B-9").releasable  # already released
