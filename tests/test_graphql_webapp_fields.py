"""The GraphQL fields the web app added, over HTTP with real tokens on the real store:
`auditStatus` (head and last checkpoint without recomputing), `auditLog(until:)`,
`Recall.deadlines` (the jurisdiction's clocks) and `QmsRecord.steps` (what each possible step needs)."""

from __future__ import annotations

from typing import Any

import pytest

from api_support import Api, make_api, make_users, role_user
from plantbuilder import demo_plant


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    demo_plant().write(store)
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("gqlweb"), raise_server_exceptions=False)


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body["errors"]
    return body["data"]


def test_audit_status_is_the_head_and_the_last_checkpoint(api: Api) -> None:
    q = "{ auditStatus { headSeq headHash sinceCheckpoint lastCheckpoint { size headHash } } auditLog { totalCount } }"
    before = data(api.gql(q, role="viewer"))
    st = before["auditStatus"]
    assert st["headSeq"] == before["auditLog"]["totalCount"] > 0 and len(st["headHash"]) == 64
    assert st["lastCheckpoint"] is None and st["sinceCheckpoint"] == st["headSeq"]
    cp = data(api.gql("mutation { createCheckpoint { size headHash } }", role="admin"))["createCheckpoint"]
    after = data(api.gql(q, role="viewer"))["auditStatus"]
    assert after["lastCheckpoint"] == cp
    # the checkpoint is itself audited: one entry after it
    assert after["headSeq"] == cp["size"] + after["sinceCheckpoint"] and after["sinceCheckpoint"] <= 1
    denied = api.gql("{ auditStatus { headSeq } }", role=None)
    assert denied.get("errors") or denied.get("data") is None


def test_audit_log_period_has_an_end(api: Api) -> None:
    q = 'query($s: String, $u: String) { auditLog(since: $s, until: $u) { totalCount edges { node { seq ts } } } }'
    everything = data(api.gql(q, role="viewer"))["auditLog"]
    ts = sorted(e["node"]["ts"] for e in everything["edges"])
    assert data(api.gql(q, role="viewer", u="2000-01-01T00:00:00.000000+00:00"))["auditLog"]["totalCount"] == 0
    mid = ts[len(ts) // 2]
    upto = data(api.gql(q, role="viewer", u=mid))["auditLog"]
    assert 0 < upto["totalCount"] < everything["totalCount"] or len(set(ts)) == 1
    assert all(e["node"]["ts"] <= mid for e in upto["edges"])
    both = data(api.gql(q, role="viewer", s=mid, u=mid))["auditLog"]
    assert both["totalCount"] == sum(1 for t in ts if t == mid)


def test_quality_record_steps_say_what_each_step_needs(api: Api) -> None:
    opened = data(api.gql('mutation { openQualityRecord(type: "complaint", reason: "call", fields: '
                          '{reporter: "City Hospital", event_date: "2026-03-01", description: "cracked housing"}) '
                          '{ id steps { name to required signature reasonRequired permission } } }',
                          role="complaint_handler"))["openQualityRecord"]
    steps = {s["name"]: s for s in opened["steps"]}
    assert set(steps) == {"investigate", "decide-reportability", "cancel"}
    assert steps["decide-reportability"]["required"] == ["reportable", "reportability_rationale"]
    assert steps["cancel"]["reasonRequired"] is True and steps["cancel"]["permission"] == "qms.write"
    assert all(s["signature"] is None for s in steps.values())
    rid = opened["id"]
    m = ('mutation($id: String!, $step: String!, $f: JSON) { qualityStep(type: "complaint", id: $id, step: $step, '
         'fields: $f, reason: "x") { status steps { name signature } } }')
    data(api.gql(m, role="complaint_handler", id=rid, step="investigate"))
    r = data(api.gql(m, role="complaint_handler", id=rid, step="conclude",
                     f={"reportable": False, "investigation": "dropped", "conclusion": "user damage"}))["qualityStep"]
    assert r["status"] == "concluded" and {"name": "close", "signature": "closed"} in r["steps"]


def test_recall_deadlines_are_the_jurisdictions_clocks(api: Api) -> None:
    m = ('mutation($who: String!) { createRecall(input: {jurisdiction: "CN-NMPA", recallClass: "I", reason: "resin", '
         'responsible: $who, cause: {lots: ["L1"]}}) { id deadlines { clock name state dueAt period } } }')
    rec = data(api.gql(m, role="recall_coordinator", who=role_user("recall_coordinator")))["createRecall"]
    clocks = rec["deadlines"]
    assert clocks and all(c["state"] in {"not_started", "pending", "due_soon", "overdue", "done", "done_late",
                                         "not_applicable"} for c in clocks)
    started = [c for c in clocks if c["state"] != "not_started"]
    assert started and all(c["dueAt"] for c in started)
    read = data(api.gql('query($id: String!) { recall(id: $id) { deadlines { clock dueAt } } }', role="viewer",
                        id=rec["id"]))["recall"]["deadlines"]
    assert [(c["clock"], c["dueAt"]) for c in read] == [(c["clock"], c["dueAt"]) for c in clocks]


def test_every_door_takes_the_period_end_and_a_date_means_its_whole_day(api: Api) -> None:
    q = 'query($u: String) { auditLog(until: $u) { totalCount edges { node { ts } } } }'
    everything = data(api.gql(q, role="viewer"))["auditLog"]
    day = everything["edges"][0]["node"]["ts"][:10]  # the newest entry's day (UTC)
    assert data(api.gql(q, role="viewer", u=day))["auditLog"]["totalCount"] == everything["totalCount"]
    rest = api.client.get("/audit/log", params={"until": day, "limit": 5000}, headers=api.headers("viewer"))
    assert rest.status_code == 200 and len(rest.json()) == everything["totalCount"]
    none = api.client.get("/audit/log", params={"until": "2000-01-01"}, headers=api.headers("viewer"))
    assert none.status_code == 200 and none.json() == []
