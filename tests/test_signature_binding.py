"""Signatures bound to what was signed (issue 15, item 3), on the real embedded database.

Every signed record type is walked through its whole lifecycle; after EVERY step every signature
made so far must still be valid (the later steps do not touch the fields it signed). Then a signed
field is changed behind the engine's back: the signature turns INVALID and names that field, while
a change to a field it does not cover leaves it valid. The 11.50 manifestation (printed name,
meaning, time) is shown with the record by the CLI, REST and GraphQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tracegraph.engine.access import auth
from tracegraph.engine.audit import signature_scope
from tracegraph.engine.audit.signatures import SignatureView, content_hash, signature_status
from tracegraph.engine.qms import CAPA, CHANGE_CONTROL, COMPLAINT, DEVIATION, DOCUMENT, get_record, move, open_record
from tracegraph.engine.qms.release import open_release, release, review
from tracegraph.engine.qms.types import INSPECTION, RECORD_TYPES, SUPPLIER
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.recall.returns import record_returns
from tracegraph.engine.trace.models import ImpactCause

PW = {"admin": "Root-Passw0rd-1!", "qa.ann": "Ann-Passw0rd-QA!", "qa.bob": "Bob-Passw0rd-QA!",
      "cmp.cat": "Cat-Passw0rd-CH!", "qa.rita": "Rita-Passw0rd-1!"}


@pytest.fixture(scope="module")
def users(store: Any) -> dict[str, Any]:
    auth.init_admin(store, "admin", "Ada Admin", PW["admin"])
    admin = auth.authenticate(store, "admin", PW["admin"], session="s-admin")
    auth.add_user(store, admin, "qa.ann", "Ann Author", PW["qa.ann"], ["qa_manager"])
    auth.add_user(store, admin, "qa.bob", "Bob Approver", PW["qa.bob"], ["qa_manager"])
    auth.add_user(store, admin, "cmp.cat", "Cat Handler", PW["cmp.cat"], ["complaint_handler"])
    auth.add_user(store, admin, "qa.rita", "Rita Reviewer", PW["qa.rita"], ["qa"])
    store.run("CREATE (:Batch {id: 'B-1', status: 'released'}), (:Serial {id: 'S-1', batch_id: 'B-1'}),"
              " (:MaterialLot {id: 'L-1'}), (:Equipment {id: 'EQ-1'})")
    return {u: auth.authenticate(store, u, PW[u], session=f"s-{u}") for u in PW}


def sigs(store: Any, label: str, key: str) -> list[SignatureView]:
    return signature_status(store, label, key)


def all_valid(store: Any, label: str, key: str, n: int) -> list[SignatureView]:
    views = sigs(store, label, key)
    assert len(views) == n, [(v.meaning, v.status) for v in views]
    bad = [(v.meaning, v.status) for v in views if not v.valid]
    assert not bad, f"{label} {key}: {bad}"
    assert all(v.scope == "fields" for v in views)
    return views


def tamper(store: Any, label: str, key: str, field: str, value: Any) -> None:
    """A change made behind the engine's back (a database client on the socket)."""
    store.run(f"MATCH (n:{label} {{id: $k}}) SET n.{field} = $v", {"k": key, "v": value})


def assert_tamper_named(store: Any, label: str, key: str, field: str, other: str) -> None:
    """A change to a field no signature covers keeps them valid; a signed field is named."""
    n = len(sigs(store, label, key))
    tamper(store, label, key, other, "changed later, not signed")
    all_valid(store, label, key, n)
    before = store.run(f"MATCH (n:{label} {{id: $k}}) RETURN n.{field} AS v", {"k": key}, write=False)[0]["v"]
    tamper(store, label, key, field, f"TAMPERED {before}")
    views = sigs(store, label, key)
    hit = [v for v in views if field in v.covered_fields]
    assert hit, f"no signature of {label} covers {field}"
    for v in hit:
        assert not v.valid and v.changed_fields == [field] and field in v.status and v.status.startswith("INVALID")
    tamper(store, label, key, field, before)  # restored: valid again (the hash binds content, not history)
    all_valid(store, label, key, n)


def test_the_scope_table_covers_every_signed_step_of_every_type() -> None:
    for rt in RECORD_TYPES.values():
        for t in rt.transitions:
            if t.signature:
                fields = signature_scope.covered_fields(rt.label, t.signature)
                assert fields, f"{rt.label} step {t.name} is signed {t.signature} but its scope is not defined"
                assert "id" in fields
    for meaning in ("approved", "closed", "exception"):
        assert "snapshot_digest" in (signature_scope.covered_fields("Recall", meaning) or ())


def test_complaint(store: Any, users: dict[str, Any]) -> None:
    cat, ann = users["cmp.cat"], users["qa.ann"]
    c = open_record(store, COMPLAINT, cat, {"reporter": "City Hospital", "event_date": "2026-02-27",
                                           "description": "cracked housing"}, about={"Serial": ["S-1"]})
    move(store, COMPLAINT, cat, c.id, "investigate")
    move(store, COMPLAINT, cat, c.id, "conclude",
         fields={"reportable": False, "investigation": "drop damage", "conclusion": "user error"})
    move(store, COMPLAINT, ann, c.id, "close", password=PW["qa.ann"], username="qa.ann")
    views = all_valid(store, "Complaint", c.id, 1)
    assert views[0].manifestation.startswith("Ann Author (qa.ann), closed, 20")
    assert_tamper_named(store, "Complaint", c.id, "conclusion", "internal_note")


def test_deviation(store: Any, users: dict[str, Any]) -> None:
    ann, bob = users["qa.ann"], users["qa.bob"]
    d = open_record(store, DEVIATION, ann, {"title": "T", "description": "seal temp low"}, about={"Batch": ["B-1"]})
    move(store, DEVIATION, ann, d.id, "assess", fields={"impact_assessment": "2 batches"})
    move(store, DEVIATION, bob, d.id, "disposition", password=PW["qa.bob"], username="qa.bob",
         fields={"disposition": "rework", "disposition_rationale": "reseal"})
    all_valid(store, "Deviation", d.id, 1)
    move(store, DEVIATION, bob, d.id, "close", password=PW["qa.bob"])  # the close does not void the disposition
    all_valid(store, "Deviation", d.id, 2)
    assert_tamper_named(store, "Deviation", d.id, "disposition_rationale", "internal_note")


def test_capa(store: Any, users: dict[str, Any]) -> None:
    ann, bob = users["qa.ann"], users["qa.bob"]
    c = open_record(store, CAPA, ann, {"title": "T", "source": "complaint", "problem": "p", "owner": "qa.ann",
                                      "due_date": "2026-09-01"})
    move(store, CAPA, ann, c.id, "plan", fields={"root_cause": "rc", "actions": ["a1"], "effectiveness_criteria": "0"})
    move(store, CAPA, ann, c.id, "implemented")
    move(store, CAPA, bob, c.id, "close", password=PW["qa.bob"], username="qa.bob",
         fields={"effectiveness_result": "none in 90 days", "effective": True})
    all_valid(store, "CAPA", c.id, 1)
    assert_tamper_named(store, "CAPA", c.id, "effectiveness_result", "internal_note")


def test_change_control(store: Any, users: dict[str, Any]) -> None:
    ann, bob = users["qa.ann"], users["qa.bob"]
    cc = open_record(store, CHANGE_CONTROL, ann, {"title": "T", "change_type": "process", "description": "d",
                                                 "justification": "j"})
    move(store, CHANGE_CONTROL, ann, cc.id, "submit", password=PW["qa.ann"], username="qa.ann",
         fields={"impact_assessment": "low"})
    all_valid(store, "ChangeControl", cc.id, 1)
    move(store, CHANGE_CONTROL, bob, cc.id, "approve", password=PW["qa.bob"], username="qa.bob")
    all_valid(store, "ChangeControl", cc.id, 2)
    move(store, CHANGE_CONTROL, ann, cc.id, "implement", fields={"effective_date": "2026-04-01"})
    all_valid(store, "ChangeControl", cc.id, 2)
    move(store, CHANGE_CONTROL, bob, cc.id, "close", password=PW["qa.bob"])
    all_valid(store, "ChangeControl", cc.id, 3)
    assert_tamper_named(store, "ChangeControl", cc.id, "justification", "internal_note")


def test_document_versions_stay_signed_when_made_effective_and_superseded(store: Any, users: dict[str, Any]) -> None:
    ann, bob = users["qa.ann"], users["qa.bob"]
    for version, start in (("1", "2026-01-01"), ("2", "2026-06-01")):
        key = f"WI-7@{version}"
        open_record(store, DOCUMENT, ann, {"doc_id": "WI-7", "version": version, "title": f"Torque v{version}"})
        move(store, DOCUMENT, ann, key, "submit", password=PW["qa.ann"], username="qa.ann")
        move(store, DOCUMENT, bob, key, "approve", password=PW["qa.bob"], username="qa.bob")
        all_valid(store, "Document", key, 2)
        move(store, DOCUMENT, bob, key, "make-effective", fields={"effective_from": start})
        all_valid(store, "Document", key, 2)
    assert get_record(store, DOCUMENT, "WI-7@1").status == "superseded"
    all_valid(store, "Document", "WI-7@1", 2)  # superseding v1 does not void its approval
    assert_tamper_named(store, "Document", "WI-7@2", "title", "internal_note")


def test_inspection_and_supplier(store: Any, users: dict[str, Any]) -> None:
    ann, bob = users["qa.ann"], users["qa.bob"]
    ins = open_record(store, INSPECTION, users["qa.rita"], {"lot_id": "L-1", "date": "2026-03-01", "result": "accept"},
                      about={"MaterialLot": ["L-1"]})
    move(store, INSPECTION, ann, ins.id, "reopen", reason="new evidence")
    move(store, INSPECTION, bob, ins.id, "complete", fields={"result": "reject"}, password=PW["qa.bob"],
         username="qa.bob")
    all_valid(store, "Inspection", ins.id, 1)
    assert_tamper_named(store, "Inspection", ins.id, "result", "internal_note")

    open_record(store, SUPPLIER, ann, {"name": "Resin Co", "country": "DE"}, key="SUP-9")
    move(store, SUPPLIER, bob, "SUP-9", "qualify", password=PW["qa.bob"], username="qa.bob",
         fields={"qualified_until": "2026-06-30", "qualification_basis": "audit A-1", "effective_from": "2026-01-01"})
    all_valid(store, "Supplier", "SUP-9", 1)
    move(store, SUPPLIER, bob, "SUP-9", "conditional", password=PW["qa.bob"], reason="2 rejected lots",
         fields={"qualified_until": "2026-04-30", "effective_from": "2026-03-01"})
    first, second = sigs(store, "Supplier", "SUP-9")
    # a new signed decision on the same fields supersedes the first, and says so (it is not tampering)
    assert second.valid and not first.valid and first.status.startswith(f"superseded by {second.id}")
    assert set(first.changed_fields) >= {"qualified_until", "status"}


def test_batch_release(empty_store: Any) -> None:
    from test_release import GOOD_PLANT

    s = empty_store
    s.run(GOOD_PLANT)
    auth.init_admin(s, "admin", "Ada Admin", PW["admin"])
    admin = auth.authenticate(s, "admin", PW["admin"], session="a")
    auth.add_user(s, admin, "qa.rita", "Rita Reviewer", PW["qa.rita"], ["qa"])
    auth.add_user(s, admin, "qa.mo", "Mo Manager", "Mo-Passw0rd-123!", ["qa_manager"])
    rita = auth.authenticate(s, "qa.rita", PW["qa.rita"], session="r")
    mo = auth.authenticate(s, "qa.mo", "Mo-Passw0rd-123!", session="m")
    rel = open_release(s, mo, "B-9")
    review(s, rita, rel.id, password=PW["qa.rita"], username="qa.rita")
    all_valid(s, "Release", rel.id, 1)
    release(s, mo, rel.id, password="Mo-Passw0rd-123!", username="qa.mo")
    views = all_valid(s, "Release", rel.id, 2)
    assert [v.meaning for v in views] == ["reviewed", "released"]
    assert_tamper_named(s, "Release", rel.id, "batch_id", "notes")


def test_recall_approval_holds_through_start_milestones_returns_and_closure(empty_store: Any) -> None:
    from test_recall_plant import APPROVER, AUTHOR, build, clock

    build(empty_store)
    ck = clock()
    data = R.RecallCreate(jurisdiction="CN-NMPA", recall_class="III", type="removal", reason="seal may leak",
                          health_hazard="infection risk, reversible", responsible="alice")
    rid = R.create_recall_from_cause(empty_store, AUTHOR, data, ImpactCause(batches=["B1"]), clock=ck).recall.id
    R.approve(empty_store, APPROVER, rid, password="pw", reason="hazard confirmed", clock=ck)
    all_valid(empty_store, "Recall", rid, 1)
    R.start(empty_store, AUTHOR, rid, clock=ck)  # quarantine counts, started_at
    all_valid(empty_store, "Recall", rid, 1)
    R.record_milestone(empty_store, AUTHOR, rid, "authority_report", reference="NMPA-17", clock=ck)
    record_returns(empty_store, AUTHOR, rid, "D1", "returned", qty=4, clock=ck)
    record_returns(empty_store, AUTHOR, rid, "H1", "corrected", qty=4, clock=ck)
    R.complete(empty_store, AUTHOR, rid, clock=ck)
    all_valid(empty_store, "Recall", rid, 1)
    rec = R.close(empty_store, APPROVER, rid, password="pw", reason="all accounted", clock=ck)
    views = all_valid(empty_store, "Recall", rid, 2)
    assert [v.meaning for v in views] == ["approved", "closed"]
    # shown with the record (engine view used by REST and the CLI)
    assert [s["manifestation"] for s in rec.signatures] == [v.manifestation for v in views]
    assert rec.signatures[0]["manifestation"].startswith("Bob Approver (bob), approved, 2026-03-02T01:00")
    assert_tamper_named(empty_store, "Recall", rid, "recall_class", "internal_note")
    tamper(empty_store, "Recall", rid, "health_hazard", "none")
    approved = sigs(empty_store, "Recall", rid)[0]
    assert not approved.valid and approved.changed_fields == ["health_hazard"]


def test_recall_closed_below_target_with_a_signed_exception(empty_store: Any) -> None:
    from test_recall_plant import APPROVER, AUTHOR, build, clock

    build(empty_store)
    ck = clock()
    data = R.RecallCreate(jurisdiction="US-FDA", recall_class="II", reason="r", responsible="alice")
    rid = R.create_recall_from_cause(empty_store, AUTHOR, data, ImpactCause(batches=["B1"]), clock=ck).recall.id
    R.approve(empty_store, APPROVER, rid, password="pw", reason="ok", clock=ck)
    R.start(empty_store, AUTHOR, rid, clock=ck)
    record_returns(empty_store, AUTHOR, rid, "D1", "returned", qty=4, clock=ck)
    R.complete(empty_store, AUTHOR, rid, clock=ck)
    R.close(empty_store, APPROVER, rid, password="pw", reason="done", exception_justification="2 units implanted",
            clock=ck)
    views = all_valid(empty_store, "Recall", rid, 3)
    assert [v.meaning for v in views] == ["approved", "closed", "exception"]
    assert_tamper_named(empty_store, "Recall", rid, "exception", "internal_note")


def test_a_signatures_own_binding_data_cannot_be_rewritten(empty_store: Any) -> None:
    from test_recall_plant import APPROVER, AUTHOR, build, clock

    build(empty_store)
    ck = clock()
    data = R.RecallCreate(jurisdiction="US-FDA", recall_class="II", reason="r", responsible="alice")
    rid = R.create_recall_from_cause(empty_store, AUTHOR, data, ImpactCause(batches=["B1"]), clock=ck).recall.id
    R.approve(empty_store, APPROVER, rid, password="pw", reason="ok", clock=ck)
    # someone changes the class AND rewrites the stored hash of that field to match
    tamper(empty_store, "Recall", rid, "recall_class", "III")
    row = empty_store.run("MATCH (s:Signature {record_key: $k}) RETURN s.id AS id, s.field_hashes AS h", {"k": rid},
                          write=False)[0]
    hashes = json.loads(row["h"])
    hashes["recall_class"] = signature_scope._value_hash("III")
    empty_store.run("MATCH (s:Signature {id: $id}) SET s.field_hashes = $h", {"id": row["id"], "h": json.dumps(hashes)})
    v = sigs(empty_store, "Recall", rid)[0]
    assert not v.valid and "binding data was altered" in v.status


def test_legacy_whole_record_signatures_are_still_checked_as_they_were_signed(empty_store: Any) -> None:
    """Signatures made before per-field binding carry only the whole-content hash."""
    s = empty_store
    s.run("CREATE (:Batch {id: 'B-L', qty: 5.0, status: 'in_process'})")
    props = s.read("commands.get.Batch", key="B-L")[0]["props"]
    s.run("MATCH (b:Batch {id: 'B-L'}) CREATE (:Signature {id: 'SIG-OLD', record_label: 'Batch', record_key: 'B-L', "
          "meaning: 'reviewed', signer_id: 'u1', signer_name: 'Old Signer', signed_at: '2025-01-01T00:00:00+00:00', "
          "content_hash: $h})-[:SIGNED]->(b)", {"h": content_hash("Batch", props)})
    v = sigs(s, "Batch", "B-L")[0]
    assert v.valid and v.scope == "legacy" and "legacy" in v.status
    assert v.manifestation == "Old Signer (u1), reviewed, 2025-01-01T00:00:00+00:00 UTC"
    tamper(s, "Batch", "B-L", "qty", 6.0)
    v = sigs(s, "Batch", "B-L")[0]
    assert not v.valid and "legacy" in v.status and v.changed_fields == []


def test_manifestation_is_shown_by_rest_graphql_and_cli(empty_store: Any, tmp_path: Any, embedded_server: Any) -> None:
    from typer.testing import CliRunner

    from api_support import PASSWORD, make_api, make_users
    from plantbuilder import demo_plant
    from tracegraph.cli import app as cli_app

    demo_plant().write(empty_store)
    make_users(empty_store)
    api = make_api(empty_store, tmp_path)
    body = api.gql('mutation { createRecall(input: {jurisdiction: "US-FDA", recallClass: "II", reason: "leak", '
                   'responsible: "u-qa", cause: {batches: ["FIN1"]}}) { id } }', role="qa")
    rid = body["data"]["createRecall"]["id"]
    api.gql(f'mutation {{ approveRecall(id: "{rid}", password: "{PASSWORD}", reason: "confirmed") {{ id }} }}',
            role="qa_manager")
    api.gql(f'mutation {{ startRecall(id: "{rid}") {{ id }} }}', role="qa")
    g = api.gql(f'{{ recall(id: "{rid}") {{ status signatures {{ meaning signerName signedAt manifestation valid '
                f'status scope coveredFields changedFields }} }} }}')["data"]["recall"]
    assert g["status"] == "in_progress"
    [sg] = g["signatures"]
    assert sg["valid"] and sg["meaning"] == "approved" and sg["signerName"] == "qa_manager user"
    assert sg["manifestation"] == f"qa_manager user (u-qa-manager), approved, {sg['signedAt']} UTC"
    assert "recall_class" in sg["coveredFields"] and sg["changedFields"] == []
    r = api.client.get(f"/recalls/{rid}", headers=api.headers("viewer"))
    assert r.status_code == 200 and r.json()["signatures"][0]["manifestation"] == sg["manifestation"]
    # a quality record over REST: the step's answer and the record carry the manifestation
    cc = api.client.post("/qms/change-control", json={"fields": {"title": "T", "change_type": "process",
                                                                 "description": "d", "justification": "j"}},
                         headers=api.headers("qa")).json()
    step = api.client.post(f"/qms/change-control/{cc['id']}/steps/submit",
                           json={"fields": {"impact_assessment": "low"}, "password": PASSWORD},
                           headers=api.headers("qa"))
    assert step.status_code == 200, step.text
    [qs] = api.client.get(f"/qms/change-control/{cc['id']}", headers=api.headers("viewer")).json()["signatures"]
    assert qs["manifestation"].startswith("qa user (u-qa), authored, ") and qs["valid"] and qs["scope"] == "fields"
    # CLI: `recall show` prints the manifestation and its state
    env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": empty_store.graph_name}
    res = CliRunner().invoke(cli_app, ["recall", "show", rid], env=env)
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())  # the console wraps long lines
    assert f"signed: {sg['manifestation']}: confirmed [valid]" in flat
