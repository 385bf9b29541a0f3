"""Quality records over GraphQL and REST on the real app and the embedded store: a complaint's
whole lifecycle (opened by the complaint handler, closed by QA with an e-signature), refusals
(viewer, wrong type permission, wrong or missing password), the release checklist, the
dashboard aggregates and paging."""

from __future__ import annotations

from typing import Any

import pytest

from api_support import PASSWORD, Api, make_api, make_users
from plantbuilder import demo_plant

RECORD = "id type label status props nextSteps auditSeq concerns { id label } addressedBy { id label } " \
         "signatures { meaning signerId valid status untrainedOn } flags"

OPEN = """mutation($fields: JSON!, $about: [QmsRefInput!]) {
  openQualityRecord(type: "complaint", fields: $fields, about: $about, reason: "customer call") { %s } }""" % RECORD

STEP = """mutation($id: String!, $step: String!, $fields: JSON, $password: String, $reason: String! = "") {
  qualityStep(type: "complaint", id: $id, step: $step, fields: $fields, password: $password, reason: $reason) {
    %s } }""" % RECORD

COMPLAINT = {"reporter": "City Hospital", "event_date": "2026-03-01", "description": "cracked housing",
             "patient_involved": True}


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    demo_plant().write(store)
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("qms"), raise_server_exceptions=False)


def _data(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body["errors"]
    return body["data"]


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def _open(api: Api, role: str = "complaint_handler") -> dict[str, Any]:
    body = api.gql(OPEN, role=role, fields=COMPLAINT, about=[{"label": "Serial", "id": "FIN1-S0003"}])
    return _data(body)["openQualityRecord"]


def test_complaint_lifecycle_over_graphql_ends_with_a_valid_signature(api: Api) -> None:
    rec = _open(api)
    assert rec["type"] == "complaint" and rec["label"] == "Complaint" and rec["status"] == "open"
    assert rec["id"].startswith("CMP-") and rec["auditSeq"] is not None
    assert rec["concerns"] == [{"id": "FIN1-S0003", "label": "Serial"}]
    assert "investigate" in rec["nextSteps"] and rec["props"]["reporter"] == "City Hospital"
    # the engine audited the opening
    r = api.client.get("/audit/log", params={"target": rec["id"]}, headers=api.headers("qa"))
    assert r.status_code == 200 and [e["action"] for e in r.json()] == ["open"]

    cid = rec["id"]
    step = lambda role, name, **kw: api.gql(STEP, role=role, id=cid, step=name, **kw)
    assert _data(step("complaint_handler", "investigate"))["qualityStep"]["status"] == "investigating"
    # a step that needs fields says which ones are missing
    body = step("complaint_handler", "conclude")
    assert _codes(body) == ["validation_failed"] and "reportable" in body["errors"][0]["message"]
    _data(step("complaint_handler", "decide-reportability",
               fields={"reportable": False, "reportability_rationale": "no injury"}))
    concluded = _data(step("complaint_handler", "conclude",
                           fields={"investigation": "moulding defect", "conclusion": "isolated"}))["qualityStep"]
    assert concluded["status"] == "concluded" and concluded["nextSteps"] == ["close"]

    # closing is signed by QA (qms.approve): the complaint handler may not, and a password is needed
    assert _codes(step("complaint_handler", "close", password=PASSWORD)) == ["permission_denied"]
    body = step("qa_manager", "close")
    assert _codes(body) == ["signature_refused"] and "password" in body["errors"][0]["extensions"]["hint"]
    body = step("qa_manager", "close", password="not-my-password", reason="done")
    assert _codes(body) == ["signature_refused"] and "signature refused" in body["errors"][0]["message"]
    still = _data(api.gql(f'{{ qualityRecord(type: "complaint", id: "{cid}") {{ status signatures {{ id }} }} }}'))
    assert still["qualityRecord"] == {"status": "concluded", "signatures": []}

    closed = _data(step("qa_manager", "close", password=PASSWORD, reason="investigation complete"))["qualityStep"]
    assert closed["status"] == "closed" and closed["nextSteps"] == []
    assert [(s["meaning"], s["signerId"], s["valid"]) for s in closed["signatures"]] == [
        ("closed", "u-qa-manager", True)]
    log = api.client.get("/audit/log", params={"target": cid, "limit": 100}, headers=api.headers("qa")).json()
    actions = [e["action"] for e in log]
    for a in ("open", "investigate", "decide-reportability", "conclude", "close"):
        assert a in actions, (a, actions)


def test_viewer_and_wrong_type_permission_are_refused(api: Api) -> None:
    body = api.gql(OPEN, role="viewer", fields=COMPLAINT, about=None)
    assert _codes(body) == ["permission_denied"] and "qms.complaint.create" in body["errors"][0]["message"]
    cid = _open(api)["id"]
    assert _codes(api.gql(STEP, role="viewer", id=cid, step="investigate")) == ["permission_denied"]
    # the complaint handler may open complaints, not deviations (the engine's rule for the type)
    body = api.gql('mutation { openQualityRecord(type: "deviation", fields: {title: "t", description: "d"}) { id } }',
                   role="complaint_handler")
    assert _codes(body) == ["permission_denied"] and "qms.write" in body["errors"][0]["message"]
    # an unknown type or step names the valid ones
    body = api.gql('{ qualityRecord(type: "nonsense", id: "X") { id } }')
    assert _codes(body) == ["validation_failed"] and "complaint" in body["errors"][0]["extensions"]["hint"]
    assert _codes(api.gql('{ qualityRecord(type: "complaint", id: "CMP-NONE") { id } }')) == ["not_found"]


def test_rest_open_read_step_and_refusals(api: Api) -> None:
    h = api.headers("complaint_handler")
    r = api.client.post("/qms/complaint", json={"fields": COMPLAINT, "about": {"Serial": ["FIN1-S0004"]},
                                                "reason": "phone"}, headers=h)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["type"] == "complaint" and rec["status"] == "open"
    assert rec["concerns"] == [{"id": "FIN1-S0004", "label": "Serial"}]
    cid = rec["id"]

    r = api.client.get(f"/qms/complaint/{cid}", headers=api.headers("viewer"))
    assert r.status_code == 200 and r.json()["next_steps"] == ["investigate", "decide-reportability", "cancel"]
    r = api.client.get("/qms/complaint", params={"status": "open"}, headers=api.headers("viewer"))
    assert r.status_code == 200 and cid in [x["id"] for x in r.json()]
    first = api.client.get("/qms/complaint", params={"limit": 1}, headers=h).json()
    nxt = api.client.get("/qms/complaint", params={"limit": 1, "after": first[0]["id"]}, headers=h).json()
    assert len(first) == 1 and (not nxt or nxt[0]["id"] < first[0]["id"])

    r = api.client.post(f"/qms/complaint/{cid}/steps/investigate", json={}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "investigating"
    r = api.client.post(f"/qms/complaint/{cid}/steps/investigate", json={}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"

    # refusals: viewer (route gate), bad input, unknown type, wrong signing password
    r = api.client.post("/qms/complaint", json={"fields": COMPLAINT}, headers=api.headers("viewer"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    r = api.client.post("/qms/complaint", json={"fields": {"reporter": ""}}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    assert api.client.get("/qms/nonsense", headers=h).status_code == 422
    api.client.post(f"/qms/complaint/{cid}/steps/conclude", headers=h, json={"fields": {
        "reportable": False, "reportability_rationale": "no", "investigation": "i", "conclusion": "c"}})
    r = api.client.post(f"/qms/complaint/{cid}/steps/close", json={"password": "wrong-password", "reason": "x"},
                        headers=api.headers("qa_manager"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "signature_refused", r.text
    assert "www-authenticate" not in r.headers  # the token is fine: clients must not drop it
    assert api.client.get(f"/qms/complaint/{cid}", headers=h).json()["status"] == "concluded"


def test_checklist_over_rest_and_graphql(api: Api) -> None:
    r = api.client.get("/qms/checklist/FIN1", headers=api.headers("viewer"))
    assert r.status_code == 200, r.text
    names = [c["name"] for c in r.json()["conditions"]]
    assert names == ["inspections", "deviations", "calibration", "training", "batch_status"]
    gql = _data(api.gql('{ releaseChecklist(batch: "FIN1") { batch releasable conditions { name ok why } } }'))
    cl = gql["releaseChecklist"]
    assert cl["batch"] == "FIN1" and [c["name"] for c in cl["conditions"]] == names
    assert cl["releasable"] == r.json()["releasable"] == all(c["ok"] for c in cl["conditions"])
    assert api.client.get("/qms/checklist/NO-SUCH", headers=api.headers("viewer")).status_code == 404


def test_open_items_capa_alerts_and_links(api: Api) -> None:
    cid = _open(api)["id"]
    capa = _data(api.gql("""mutation($f: JSON!, $a: [QmsRefInput!]) {
        openQualityRecord(type: "capa", fields: $f, addresses: $a) { id status } }""", role="qa",
        f={"title": "housing cracks", "source": "complaint", "problem": "cracks", "owner": "u-qa",
           "due_date": "2026-01-15"}, a=[{"label": "Complaint", "id": cid}]))["openQualityRecord"]
    linked = _data(api.gql(f'{{ qualityRecord(type: "complaint", id: "{cid}") {{ addressedBy {{ id label }} }} }}'))
    assert {"id": capa["id"], "label": "CAPA"} in linked["qualityRecord"]["addressedBy"]

    alerts = _data(api.gql("{ capaAlerts(withinDays: 7) { capa owner state severity daysLeft } }"))["capaAlerts"]
    mine = [a for a in alerts if a["capa"] == capa["id"]]
    assert mine and mine[0]["state"] == "overdue" and mine[0]["severity"] == "critical" and mine[0]["owner"] == "u-qa"

    oi = _data(api.gql("""{ openItems { overdue items { id type overdue } byType { key count }
                           byOwner { key count } byAge { key count } alerts { capa } } }"""))["openItems"]
    by_id = {i["id"]: i for i in oi["items"]}
    assert by_id[capa["id"]]["overdue"] is True and cid in by_id and oi["overdue"] >= 1
    assert sum(c["count"] for c in oi["byAge"]) == len(oi["items"])
    assert sum(c["count"] for c in oi["byType"]) == len(oi["items"])
    assert capa["id"] in [a["capa"] for a in oi["alerts"]]
    r = api.client.get("/qms/open-items", headers=api.headers("viewer"))
    assert r.status_code == 200 and capa["id"] in [i["id"] for i in r.json()["items"]]


def test_quality_records_connection_pages(api: Api) -> None:
    ids = [_open(api)["id"] for _ in range(2)]
    q = """query($after: String) { qualityRecords(type: "complaint", first: 2, after: $after) {
             totalCount pageInfo { hasNextPage endCursor } edges { node { id type status nextSteps concerns { id } } } } }"""
    seen: list[str] = []
    after = None
    total = None
    while True:
        page = _data(api.gql(q, after=after))["qualityRecords"]
        total = page["totalCount"]
        seen += [e["node"]["id"] for e in page["edges"]]
        assert all(e["node"]["type"] == "complaint" and e["node"]["concerns"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == total >= 2 and set(ids) <= set(seen)
    assert seen == sorted(seen, reverse=True)
    open_ = _data(api.gql('{ qualityRecords(type: "complaint", status: "open") { totalCount edges { node { id status } } } }'))
    nodes = [e["node"] for e in open_["qualityRecords"]["edges"]]
    assert set(ids) <= {n["id"] for n in nodes} and {n["status"] for n in nodes} == {"open"}
    rest = api.client.get("/qms/complaint", params={"status": "open", "limit": 1000}, headers=api.headers("viewer")).json()
    assert open_["qualityRecords"]["totalCount"] == len(nodes) == len(rest) < total


def test_dashboard_reads(api: Api) -> None:
    body = _data(api.gql("""{ supplierScorecards { supplier lots acceptanceRate }
        trainingMatrix { user document trained }
        productionReport(from: "2026-01-01", to: "2026-12-31") { day product batches }
        documentInEffect(docId: "SOP-NONE", at: "2026-03-01") { id } }"""))
    assert {s["supplier"] for s in body["supplierScorecards"]} >= {"S1", "S2"}
    assert body["documentInEffect"] is None
    assert sum(r["batches"] for r in body["productionReport"]) >= 1
