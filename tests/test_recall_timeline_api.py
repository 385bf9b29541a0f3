"""Recall effectiveness over time on both doors: GraphQL `Recall.effectivenessTimeline` and REST
`GET /recalls/{id}/effectiveness/timeline` give the same series for steps recorded through the
API, with the role checks of their siblings and a bad time zone named."""

from __future__ import annotations

from typing import Any

import pytest

from api_support import PASSWORD, Api, make_api, make_users, role_user
from test_recall_plant import build
from tracegraph.engine.access import auth
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.trace.models import ImpactCause

QA = role_user("qa_manager")
RID = "RC-TIMELINE"
Q = ('query($id: String!, $by: TimelineBy!, $tz: String!) { recall(id: $id) { effectivenessPct '
     'effectivenessTimeline(by: $by, tz: $tz) { recall targetPct expected customersTotal by tz '
     'points { at day event customer notified acknowledged unitsReturned unitsAccounted effectivenessPct '
     'meetsTarget } } } }')


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    ids = build(store)
    make_users(store)
    admin = auth.authenticate(store, "admin1", PASSWORD)
    auth.add_user(store, admin, "u-qa-manager-2", "second QA manager", PASSWORD, ["qa_manager"], reason="test")
    author = auth.authenticate(store, QA, PASSWORD)
    data = R.RecallCreate(id=RID, jurisdiction="CN-NMPA", recall_class="III", reason="label", responsible=QA)
    R.create_recall_from_cause(store, author, data, ImpactCause(batches=["B1"]))
    R.approve(store, auth.authenticate(store, "u-qa-manager-2", PASSWORD), RID, password=PASSWORD, reason="ok")
    R.start(store, author, RID, quarantine=False)
    a = make_api(store, tmp_path_factory.mktemp("timeline"))
    step = ('mutation($c: String!, $i: CustomerStepInput!) { recordCustomerStep(id: "RC-TIMELINE", customer: $c, '
            'input: $i) { id } }')
    ret = ('mutation($c: String!, $i: ReturnInput!) { recordReturns(id: "RC-TIMELINE", customer: $c, input: $i) '
           '{ recall } }')
    for q, v in ((step, {"c": "D1", "i": {"step": "sent", "at": "2026-03-02T01:00:00+00:00"}}),
                 (step, {"c": "H1", "i": {"step": "sent", "at": "2026-03-02T02:00:00+00:00"}}),
                 (step, {"c": "D1", "i": {"step": "acknowledged", "by": "Li Lei", "at": "2026-03-02T17:30:00+00:00"}}),
                 (ret, {"c": "D1", "i": {"disposition": "returned", "scans": ids["b1"][:4]}}),
                 (ret, {"c": "H1", "i": {"disposition": "corrected", "qty": 3}})):
        body = a.gql(q, "recall_coordinator", **v)
        assert not body.get("errors"), body
    return a


def test_graphql_series_against_the_target(api: Api) -> None:
    body = api.gql(Q, "viewer", id=RID, by="EVENT", tz="Asia/Shanghai")
    assert not body.get("errors"), body
    rec = body["data"]["recall"]
    tl = rec["effectivenessTimeline"]
    assert (tl["recall"], tl["targetPct"], tl["expected"], tl["customersTotal"], tl["by"], tl["tz"]) == (
        RID, 90.0, 8.0, 2, "event", "Asia/Shanghai")
    pts = tl["points"]
    assert [p["event"] for p in pts] == ["decision", "sent", "sent", "acknowledged", "return", "return"]
    assert [(p["notified"], p["acknowledged"], p["unitsReturned"], p["unitsAccounted"], p["effectivenessPct"])
            for p in pts[1:]] == [(1, 0, 0, 0, 0), (2, 0, 0, 0, 0), (2, 1, 0, 0, 0), (2, 1, 4, 4, 50.0),
                                  (2, 1, 4, 7, 87.5)]
    # the acknowledgement at 17:30 UTC is the next morning in Shanghai
    assert pts[3]["customer"] == "D1" and pts[3]["at"] == "2026-03-02T17:30:00+00:00" and pts[3]["day"] == "2026-03-03"
    assert not any(p["meetsTarget"] for p in pts)
    days = api.gql(Q, "viewer", id=RID, by="DAY", tz="Asia/Shanghai")["data"]["recall"]["effectivenessTimeline"]
    assert [p["day"] for p in days["points"][1:3]] == ["2026-03-02", "2026-03-03"]
    assert days["points"][-1]["effectivenessPct"] == 87.5


def test_rest_gives_the_same_series_with_the_role_checks(api: Api) -> None:
    url = f"/recalls/{RID}/effectiveness/timeline"
    r = api.client.get(url, params={"tz": "Asia/Shanghai"}, headers=api.headers("viewer"))
    assert r.status_code == 200, r.text
    rest = r.json()
    gql = api.gql(Q, "viewer", id=RID, by="EVENT", tz="Asia/Shanghai")["data"]["recall"]["effectivenessTimeline"]
    assert [p["effectiveness_pct"] for p in rest["points"]] == [p["effectivenessPct"] for p in gql["points"]]
    assert [p["at"] for p in rest["points"]] == [p["at"] for p in gql["points"]]
    assert rest["target_pct"] == 90.0
    assert api.client.get(url, headers=api.headers("capture_device")).json()["error"]["code"] == "permission_denied"
    assert api.client.get(url).status_code == 401
    bad = api.client.get(url, params={"tz": "Mars/Olympus"}, headers=api.headers("viewer"))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "tz"
    assert api.client.get("/recalls/RC-NONE/effectiveness/timeline", headers=api.headers("viewer")).status_code == 404
    body = api.gql(Q, "viewer", id=RID, by="DAY", tz="Mars/Olympus")
    assert body["errors"][0]["extensions"]["code"] == "validation_failed"
    assert body["errors"][0]["extensions"]["field"] == "tz"
