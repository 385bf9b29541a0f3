"""Recall steps a coordinator takes every day exist on REST and GraphQL with the CLI's guards
(issue 17: API parity): notices, milestones, the effectiveness check, quarantine. Real store, real
app; each step is checked for its effect in the graph and in the audit trail, and a refused input
names its field on both doors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api_support import PASSWORD, Api, make_api, make_users, role_user
from test_recall_plant import build
from tracegraph.engine.access import auth
from tracegraph.engine.audit.chain import head, history
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.trace.models import ImpactCause

QA = role_user("qa_manager")
RID = "RC-PARITY"


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    build(store)
    make_users(store)
    admin = auth.authenticate(store, "admin1", PASSWORD)
    auth.add_user(store, admin, "u-qa-manager-2", "second QA manager", PASSWORD, ["qa_manager"], reason="test")
    author = auth.authenticate(store, QA, PASSWORD)
    data = R.RecallCreate(id=RID, jurisdiction="EU-MDR", recall_class="II", reason="seal may leak", responsible=QA)
    R.create_recall_from_cause(store, author, data, ImpactCause(lots=["L1"]))
    R.approve(store, auth.authenticate(store, "u-qa-manager-2", PASSWORD), RID, password=PASSWORD, reason="ok")
    R.start(store, author, RID, quarantine=False)
    return make_api(store, tmp_path_factory.mktemp("parity"))


def gql(api: Api, q: str, role: str = "recall_coordinator", **v: Any) -> dict[str, Any]:
    body = api.gql(q, role, **v)
    assert not body.get("errors"), body["errors"]
    return body["data"]


def test_notices_through_rest_and_graphql(api: Api) -> None:
    r = api.client.post(f"/recalls/{RID}/notify", json={"mark_sent": False}, headers=api.headers("recall_coordinator"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["letters"] and all(Path(x["path"]).is_file() for x in out["letters"]) and out["marked_sent"] == 0
    d = gql(api, f'mutation {{ notifyRecall(id: "{RID}", markSent: true) }}')["notifyRecall"]
    assert d["marked_sent"] == len(d["letters"]) > 0
    custs = R.customers(api.store, RID)
    assert custs and all(c.sent_at for c in custs)
    assert any(e.action.startswith("recall.") for e in history(api.store, target=RID, limit=20))


def test_milestones_through_both_doors_and_a_bad_time_named(api: Api) -> None:
    r = api.client.post(f"/recalls/{RID}/milestones", json={"milestone": "fsca_report", "reference": "BfArM-1",
                                                             "at": "2026-03-02T09:00:00+01:00"},
                        headers=api.headers("recall_coordinator"))
    assert r.status_code == 200, r.text
    assert "fsca_report" in r.json()["milestones"]
    d = gql(api, f'mutation {{ recordMilestone(id: "{RID}", milestone: "fsn_issued") {{ milestones }} }}')
    assert "fsn_issued" in d["recordMilestone"]["milestones"]
    before = head(api.store)["seq"]
    r = api.client.post(f"/recalls/{RID}/milestones", json={"milestone": "fsn_issued", "at": "2026-03-02T09:00:00"},
                        headers=api.headers("recall_coordinator"))
    assert r.status_code == 422 and "at" in r.json()["error"]["field"]
    body = api.gql(f'mutation {{ recordMilestone(id: "{RID}", milestone: "tea_break") {{ id }} }}', "recall_coordinator")
    assert body["errors"][0]["extensions"]["field"].endswith("milestone")
    assert head(api.store)["seq"] == before  # refusals write nothing


def test_effectiveness_check_and_quarantine(api: Api) -> None:
    r = api.client.post(f"/recalls/{RID}/effectiveness", json={"note": "day 30 check"},
                        headers=api.headers("recall_coordinator"))
    assert r.status_code == 200, r.text
    assert r.json()["recall"] == RID and "overall_pct" in r.json()
    assert R.get_recall(api.store, RID).effectiveness_checked_at
    d = gql(api, f'mutation {{ quarantineRecall(id: "{RID}") }}')["quarantineRecall"]
    assert isinstance(d, dict)
    r = api.client.post(f"/recalls/{RID}/quarantine", headers=api.headers("viewer"))
    assert r.status_code == 403  # a viewer may not


def test_effectiveness_now_in_graphql_equals_the_cli_figure(api: Api) -> None:
    """`Recall.effectiveness` is what `tracegraph recall effectiveness` prints (engine/recall/
    effectiveness.py), readable with recall.read, and it moves with a quantity return."""
    from tracegraph.engine.recall.effectiveness import effectiveness

    q = ('query($id: String!) { recall(id: $id) { effectiveness { recall overallPct targetPct meetsTarget expected '
         'accounted customersTotal customersAcknowledged awaitingAcknowledgement customers { customer expected '
         'returned destroyed corrected notFound accounted unaccounted pct } } } }')
    before = gql(api, q, "viewer", id=RID)["recall"]["effectiveness"]
    eng = effectiveness(api.store, RID)
    assert (before["overallPct"], before["targetPct"], before["expected"], before["accounted"]) == (
        eng.overall_pct, eng.target_pct, eng.expected, eng.accounted)
    assert before["awaitingAcknowledgement"] == eng.awaiting_acknowledgement
    holder = max(eng.customers, key=lambda c: c.unaccounted)
    assert holder.unaccounted >= 1
    gql(api, 'mutation($id: String!, $c: String!) { recordReturns(id: $id, customer: $c, input: {disposition: '
             '"destroyed", qty: 1}) { recall } }', id=RID, c=holder.customer)
    after = gql(api, q, "viewer", id=RID)["recall"]["effectiveness"]
    assert after["accounted"] == before["accounted"] + 1
    row = next(c for c in after["customers"] if c["customer"] == holder.customer)
    assert row["destroyed"] == holder.destroyed + 1 and row["unaccounted"] == holder.unaccounted - 1
    assert after["overallPct"] == effectiveness(api.store, RID).overall_pct > before["overallPct"]


def test_a_bounced_notice_through_rest_and_graphql(api: Api) -> None:
    """`recall ack --step bounced`: the notice came back undeliverable. The customer shows it, the
    effectiveness timeline no longer counts it as notified until the notice is sent again, and a
    bounce after an acknowledgement is refused (a Chinese message on request) and writes nothing."""
    from tracegraph.engine.recall.timeline import effectiveness_timeline

    custs = R.customers(api.store, RID)
    first, second = custs[0].id, custs[-1].id
    coord = api.headers("recall_coordinator")
    for c in (first, second):  # (re)sent, so each test here starts from a sent notice
        r = api.client.post(f"/recalls/{RID}/customers/{c}/steps", json={"step": "sent"}, headers=coord)
        assert r.status_code == 200, r.text
    notified = effectiveness_timeline(api.store, RID).points[-1].notified
    r = api.client.post(f"/recalls/{RID}/customers/{first}/steps", json={"step": "bounced", "note": "address unknown"},
                        headers=coord)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "bounced" and r.json()["bounced_at"] and r.json()["delivered_at"] is None
    d = gql(api, 'mutation($id: String!, $c: String!) { recordCustomerStep(id: $id, customer: $c, '
                 'input: {step: "bounced"}) { status bouncedAt } }', id=RID, c=second)["recordCustomerStep"]
    assert d["status"] == "bounced" and d["bouncedAt"]
    tl = effectiveness_timeline(api.store, RID).points
    assert [p.event for p in tl[-2:]] == ["bounced", "bounced"] and tl[-1].notified == notified - 2
    assert [e.action for e in history(api.store, target=RID, limit=2)] == ["recall.customer.bounced"] * 2
    # sent again: reached again
    gql(api, 'mutation($id: String!, $c: String!) { recordCustomerStep(id: $id, customer: $c, input: {step: "sent"}) '
             '{ status } }', id=RID, c=second)
    assert effectiveness_timeline(api.store, RID).points[-1].notified == notified - 1
    # acknowledged notices do not bounce
    gql(api, 'mutation($id: String!, $c: String!) { recordCustomerStep(id: $id, customer: $c, input: '
             '{step: "acknowledged", by: "Dr Wang"}) { status } }', id=RID, c=second)
    before = head(api.store)["seq"]
    r = api.client.post(f"/recalls/{RID}/customers/{second}/steps", json={"step": "bounced"},
                        headers={**coord, "Accept-Language": "zh-CN"})
    assert r.status_code == 409 and r.json()["error"]["message"] == f"{second} 已确认收到通知，不可能被退回"
    body = api.gql(f'mutation {{ recordCustomerStep(id: "{RID}", customer: "{second}", input: {{step: "bounce"}}) '
                   '{ status } }', "recall_coordinator")
    assert body["errors"][0]["extensions"]["code"] == "validation_failed"
    assert body["errors"][0]["extensions"]["field"].endswith("step")
    assert head(api.store)["seq"] == before
