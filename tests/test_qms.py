"""Quality records: every lifecycle step and refusal, signatures and two-person rules, audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from plantbuilder import seal_fixture
from tracegraph.engine.access import auth
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.clock import FrozenClock
from tracegraph.engine.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    SignatureError,
    ValidationFailed,
)
from tracegraph.engine.qms import (
    CAPA,
    CHANGE_CONTROL,
    COMPLAINT,
    DEVIATION,
    get_record,
    list_records,
    move,
    open_record,
)
from tracegraph.engine.qms.types import generate_queries

PW = {"admin": "Root-Passw0rd-1!", "qa.ann": "Ann-Passw0rd-QA!", "qa.bob": "Bob-Passw0rd-QA!",
      "cmp.cat": "Cat-Passw0rd-CH!", "view.vic": "Vic-Passw0rd-VW!"}


@pytest.fixture(scope="module")
def users(store):  # type: ignore[no-untyped-def]
    auth.init_admin(store, "admin", "Ada Admin", PW["admin"])
    admin = auth.authenticate(store, "admin", PW["admin"], session="s-admin")
    auth.add_user(store, admin, "qa.ann", "Ann Author", PW["qa.ann"], ["qa_manager"])
    auth.add_user(store, admin, "qa.bob", "Bob Approver", PW["qa.bob"], ["qa_manager"])
    auth.add_user(store, admin, "cmp.cat", "Cat Handler", PW["cmp.cat"], ["complaint_handler"])
    auth.add_user(store, admin, "view.vic", "Vic Viewer", PW["view.vic"], ["viewer"])
    store.run("CREATE (:Batch {id: 'B-1', status: 'released'}), (:Serial {id: 'S-1', batch_id: 'B-1'}),"
              " (:MaterialLot {id: 'L-1'}), (:Equipment {id: 'EQ-1'}), (:Document {id: 'SOP-1@2'})")
    seal_fixture(store)  # fixture records, put under the audit proof as an import would
    return {u: auth.authenticate(store, u, PW[u], session=f"s-{u}") for u in PW}


def test_generated_queries_are_current() -> None:
    for path, text in generate_queries().items():
        assert path.read_text() == text, f"{path} is stale: run generate_queries(write=True)"


@pytest.mark.req("REQ-QMS-001")
def test_complaint_lifecycle_to_signed_closure(store, users) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 3, 1, 9, tzinfo=UTC))
    c = open_record(store, COMPLAINT, users["cmp.cat"],
                    {"reporter": "City Hospital", "event_date": "2026-02-27", "description": "cracked housing",
                     "patient_involved": True}, about={"Serial": ["S-1"]}, clock=clock)
    assert c.status == "open" and c.concerns == [{"id": "S-1", "label": "Serial"}]
    assert c.next_steps == ["investigate", "decide-reportability", "cancel"]
    with pytest.raises(ValidationFailed, match="needs reportable, reportability_rationale"):
        move(store, COMPLAINT, users["cmp.cat"], c.id, "decide-reportability")
    move(store, COMPLAINT, users["cmp.cat"], c.id, "investigate", clock=clock)
    with pytest.raises(ValidationFailed, match="jurisdiction, severity"):
        move(store, COMPLAINT, users["cmp.cat"], c.id, "decide-reportability",
             fields={"reportable": True, "reportability_rationale": "injury possible"}, clock=clock)
    c = move(store, COMPLAINT, users["cmp.cat"], c.id, "decide-reportability",
             fields={"reportable": True, "reportability_rationale": "injury possible", "jurisdiction": "EU-MDR",
                     "severity": "serious_injury"}, clock=clock)
    assert c.props["report_due"].startswith("2026-03-1") and c.props["report_clock"] == "serious_incident"
    move(store, COMPLAINT, users["cmp.cat"], c.id, "report", fields={"reported_at": "2026-03-05"}, clock=clock)
    c = move(store, COMPLAINT, users["cmp.cat"], c.id, "conclude",
             fields={"investigation": "lot L-1 resin brittle", "conclusion": "supplier issue"}, clock=clock)
    assert c.status == "concluded"
    with pytest.raises(PermissionDenied):  # a complaint handler may not close
        move(store, COMPLAINT, users["cmp.cat"], c.id, "close", password=PW["cmp.cat"])
    with pytest.raises(AuthenticationFailed):  # signed step without the password
        move(store, COMPLAINT, users["qa.ann"], c.id, "close")
    c = move(store, COMPLAINT, users["qa.ann"], c.id, "close", password=PW["qa.ann"], username="qa.ann", clock=clock)
    assert c.status == "closed"
    assert [(s["meaning"], s["signer_id"], s["valid"]) for s in c.signatures] == [("closed", "qa.ann", True)]
    with pytest.raises(Conflict, match="needs status"):
        move(store, COMPLAINT, users["qa.ann"], c.id, "investigate")


@pytest.mark.req("REQ-SIG-003")
def test_wrong_password_undoes_the_signed_step(store, users) -> None:  # type: ignore[no-untyped-def]
    d = open_record(store, DEVIATION, users["qa.ann"], {"title": "temp excursion", "description": "oven 2 at 81C"},
                    about={"Batch": ["B-1"], "Equipment": ["EQ-1"]})
    move(store, DEVIATION, users["qa.ann"], d.id, "assess", fields={"impact_assessment": "1 batch affected"})
    with pytest.raises(AuthenticationFailed):
        move(store, DEVIATION, users["qa.bob"], d.id, "disposition", password="wrong-password-123",
             username="qa.bob", fields={"disposition": "scrap", "disposition_rationale": "out of spec"})
    assert get_record(store, DEVIATION, d.id).status == "assessed"
    d = move(store, DEVIATION, users["qa.bob"], d.id, "disposition", password=PW["qa.bob"], username="qa.bob",
             fields={"disposition": "scrap", "disposition_rationale": "out of spec"})
    assert d.status == "dispositioned" and d.props["disposition"] == "scrap"
    with pytest.raises(ValidationFailed, match="disposition"):
        move(store, DEVIATION, users["qa.bob"], d.id, "close", password=PW["qa.bob"], fields={"disposition": "burn"})


@pytest.mark.req("REQ-QMS-002", "REQ-SIG-004")
def test_capa_two_person_rule_and_links(store, users) -> None:  # type: ignore[no-untyped-def]
    d = open_record(store, DEVIATION, users["qa.ann"], {"title": "t", "description": "d"}, about={"Batch": ["B-1"]})
    capa = open_record(store, CAPA, users["qa.ann"],
                       {"title": "fix oven", "source": "deviation", "problem": "drift", "owner": "qa.ann",
                        "due_date": "2026-04-01"}, addresses={"Deviation": [d.id]})
    assert {"id": capa.id, "label": "CAPA"} in get_record(store, DEVIATION, d.id).addressed_by
    with pytest.raises(ValidationFailed, match="root_cause"):
        move(store, CAPA, users["qa.ann"], capa.id, "plan")
    move(store, CAPA, users["qa.ann"], capa.id, "plan",
         fields={"root_cause": "sensor", "actions": ["replace sensor", "PM monthly"], "effectiveness_criteria": "0 drifts in 3 months"})
    move(store, CAPA, users["qa.ann"], capa.id, "implemented")
    fields = {"effectiveness_result": "no drift", "effective": True}
    with pytest.raises(SignatureError, match="author"):
        move(store, CAPA, users["qa.ann"], capa.id, "close", password=PW["qa.ann"], username="qa.ann", fields=fields)
    assert get_record(store, CAPA, capa.id).status == "effectiveness_check"
    refused = store.run("MATCH (e:AuditEntry {action: 'signature_refused', target_key: $k}) RETURN e.actor AS a",
                        {"k": capa.id}, write=False)
    assert [r["a"] for r in refused] == ["qa.ann"]  # the refusal is audited (issue 6)
    capa2 = move(store, CAPA, users["qa.bob"], capa.id, "close", password=PW["qa.bob"], username="qa.bob", fields=fields)
    assert capa2.status == "closed" and capa2.signatures[0]["signer_id"] == "qa.bob"


@pytest.mark.req("REQ-QMS-002")
def test_change_control_approval_needs_another_person(store, users) -> None:  # type: ignore[no-untyped-def]
    cc = open_record(store, CHANGE_CONTROL, users["qa.ann"],
                     {"title": "SOP-1 v3", "change_type": "document", "description": "new torque", "justification": "CAPA"},
                     about={"Document": ["SOP-1@2"]})
    assert cc.status == "draft"
    move(store, CHANGE_CONTROL, users["qa.ann"], cc.id, "submit", fields={"impact_assessment": "2 products"},
         password=PW["qa.ann"], username="qa.ann")
    with pytest.raises(SignatureError):
        move(store, CHANGE_CONTROL, users["qa.ann"], cc.id, "approve", password=PW["qa.ann"])
    cc = move(store, CHANGE_CONTROL, users["qa.bob"], cc.id, "approve", password=PW["qa.bob"], username="qa.bob")
    assert cc.status == "approved"
    with pytest.raises(ValidationFailed, match="effective_date"):
        move(store, CHANGE_CONTROL, users["qa.ann"], cc.id, "implement")
    cc = move(store, CHANGE_CONTROL, users["qa.ann"], cc.id, "implement", fields={"effective_date": "2026-05-01"})
    assert cc.props["effective_date"] == "2026-05-01"


@pytest.mark.req("REQ-QMS-007")
def test_refusals_bad_references_roles_and_fields(store, users) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as err:
        open_record(store, COMPLAINT, users["cmp.cat"], {"reporter": "x", "event_date": "2026-01-01", "description": "d"},
                    about={"Serial": ["NOPE"], "Equipment": ["EQ-1"]})
    fields = {(p.field, p.value) for p in err.value.problems}
    assert ("about.Serial", "NOPE") in fields and ("about", "Equipment") in fields
    with pytest.raises(ValidationFailed) as err:
        open_record(store, COMPLAINT, users["cmp.cat"], {"reporter": "", "event_date": "yesterday", "description": "d"})
    assert {p.field for p in err.value.problems} == {"reporter", "event_date"}
    with pytest.raises(PermissionDenied):
        open_record(store, DEVIATION, users["view.vic"], {"title": "t", "description": "d"})
    with pytest.raises(NotFound):
        get_record(store, CAPA, "CAPA-NOPE")


@pytest.mark.req("REQ-QMS-007")
def test_every_step_is_in_the_audit_chain_and_it_verifies(store, users) -> None:  # type: ignore[no-untyped-def]
    recs = list_records(store, COMPLAINT)
    assert recs, "complaints were opened above"
    rows = store.run("MATCH (e:AuditEntry) WHERE e.target_label IN ['Complaint','Deviation','CAPA','ChangeControl'] "
                     "RETURN e.action AS action, e.changes AS changes", write=False)
    actions = {r["action"] for r in rows}
    assert {"open", "investigate", "conclude", "close", "assess", "disposition", "plan", "approve"} <= actions
    assert "disposition_reverted" not in actions  # refused before moving: nothing to undo
    opened = [json.loads(r["changes"]) for r in rows if r["action"] == "open"]
    assert any(c["field"] == "ABOUT->Serial" and c["new"] == ["S-1"] for ch in opened for c in ch)
    report = verify(store)
    assert report.ok, report


def test_cli_open_step_show_list(store, users, embedded_server) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from tracegraph.cli import app

    env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": store.graph_name,
           "TRACEGRAPH_USER": "cmp.cat", "TRACEGRAPH_PASSWORD": PW["cmp.cat"]}
    runner = CliRunner()
    r = runner.invoke(app, ["qms", "open", "complaint", "-f", "reporter=Ward 3", "-f", "event_date=2026-03-02",
                            "-f", "description=alarm silent", "-f", "patient_involved=true", "--about", "Batch:B-1",
                            "--json"], env=env)
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    assert rec["status"] == "open" and rec["props"]["patient_involved"] is True
    r = runner.invoke(app, ["qms", "step", "complaint", rec["id"], "investigate", "--json"], env=env)
    assert r.exit_code == 0 and json.loads(r.stdout)["status"] == "investigating", r.output
    r = runner.invoke(app, ["qms", "step", "complaint", rec["id"], "close", "--password", PW["cmp.cat"]], env=env)
    assert r.exit_code == 1 and "may not approve" in r.output
    r = runner.invoke(app, ["qms", "list", "complaint", "--status", "investigating", "--json"], env=env)
    assert rec["id"] in [x["id"] for x in json.loads(r.stdout)]
    r = runner.invoke(app, ["qms", "show", "complaint", rec["id"]], env=env)
    assert r.exit_code == 0 and "next steps: decide-reportability, report, conclude" in r.output
    r = runner.invoke(app, ["qms", "open", "capa", "-f", "title", "--json"], env=env)
    assert r.exit_code == 2 and "expected key=value" in r.output


@pytest.mark.req("REQ-QMS-003")
def test_document_versions_approval_effective_and_supersede(store, users) -> None:  # type: ignore[no-untyped-def]
    from tracegraph.engine.qms import DOCUMENT
    from tracegraph.engine.qms.insights import document_in_effect

    ann, bob = users["qa.ann"], users["qa.bob"]
    v1 = open_record(store, DOCUMENT, ann, {"doc_id": "WI-9", "version": "1", "title": "Torque"})
    assert v1.id == "WI-9@1" and v1.status == "draft"
    for doc in ("WI-9@1",):
        move(store, DOCUMENT, ann, doc, "submit", password=PW["qa.ann"], username="qa.ann")
        with pytest.raises(SignatureError):
            move(store, DOCUMENT, ann, doc, "approve", password=PW["qa.ann"])
        move(store, DOCUMENT, bob, doc, "approve", password=PW["qa.bob"], username="qa.bob")
        move(store, DOCUMENT, bob, doc, "make-effective", fields={"effective_from": "2026-01-01"})
    v2 = open_record(store, DOCUMENT, ann, {"doc_id": "WI-9", "version": "2", "title": "Torque v2"})
    move(store, DOCUMENT, ann, v2.id, "submit", password=PW["qa.ann"])
    v2 = move(store, DOCUMENT, bob, v2.id, "approve", password=PW["qa.bob"])
    # neither signer has a training record on the version in effect (WI-9@1): flagged, not refused
    assert {x["signer_id"]: x["untrained_on"] for x in v2.signatures} == {"qa.ann": ["WI-9@1"], "qa.bob": ["WI-9@1"]}
    assert len(v2.flags) == 2
    with pytest.raises(ValidationFailed, match="effective_from"):
        move(store, DOCUMENT, bob, v2.id, "make-effective")
    move(store, DOCUMENT, bob, v2.id, "make-effective", fields={"effective_from": "2026-06-01"})
    old = get_record(store, DOCUMENT, "WI-9@1")
    assert old.status == "superseded" and old.props["effective_to"] == "2026-06-01"
    assert document_in_effect(store, "WI-9", "2026-03-01")["version"] == "1"
    assert document_in_effect(store, "WI-9", "2026-07-01")["version"] == "2"


@pytest.mark.req("REQ-QMS-004")
def test_training_records_and_matrix(store, users) -> None:  # type: ignore[no-untyped-def]
    from tracegraph.engine.qms import move as qmove
    from tracegraph.engine.qms.insights import training_matrix
    from tracegraph.engine.qms.types import TRAINING

    cells = {(c.user, c.document): c.trained for c in training_matrix(store)}
    assert cells[("qa.ann", "WI-9@2")] is False  # effective since the document test above
    tr = open_record(store, TRAINING, users["qa.bob"], {"user_id": "qa.ann", "document_id": "WI-9@2",
                                                        "trained_at": "2026-06-02"}, about={"Document": ["WI-9@2"]})
    cells = {(c.user, c.document): c.trained for c in training_matrix(store, role="qa_manager")}
    assert cells[("qa.ann", "WI-9@2")] is True and cells[("qa.bob", "WI-9@2")] is False
    assert ("cmp.cat", "WI-9@2") not in cells  # filtered by role
    qmove(store, TRAINING, users["qa.bob"], tr.id, "withdraw", reason="recorded in error")
    cells = {(c.user, c.document): c.trained for c in training_matrix(store)}
    assert cells[("qa.ann", "WI-9@2")] is False
