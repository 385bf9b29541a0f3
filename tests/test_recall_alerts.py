"""Alerts fire at the right moment (FrozenClock, no sleeps), once per subject, go to the
responsible person, and are POSTed to a webhook (a loopback HTTP server in a thread)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from test_recall_plant import APPROVER, AUTHOR, LOGISTICS, build, clock
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.recall.alerts import acknowledge_alert, evaluate_alerts, list_alerts, watch
from tracegraph.engine.recall.clocks import deadlines
from tracegraph.engine.recall.notify import update_customer
from tracegraph.engine.recall.returns import record_returns
from tracegraph.engine.trace.models import ImpactCause


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a) -> None:
        pass


@pytest.fixture()
def hook():
    srv = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/alerts", _Hook.received
    srv.shutdown()
    srv.server_close()


def _ids(run):
    return sorted(a.rule + ":" + a.subject for a in run.new)


@pytest.mark.req("REQ-RCL-005")
def test_alerts_over_time(empty_store, hook) -> None:
    url, received = hook
    build(empty_store)
    ck = clock()  # Mon 2026-03-02 09:00 Beijing
    data = R.RecallCreate(jurisdiction="CN-NMPA", recall_class="II", reason="seal", responsible="alice")
    rec = R.create_recall_from_cause(empty_store, AUTHOR, data, ImpactCause(batches=["B1"]), clock=ck).recall
    # class II notification due end of Thu 03-05 Beijing; authority report within 24 h
    run = evaluate_alerts(empty_store, ck, webhook_url=url)  # "immediately" = within 24 h: due soon at once
    assert _ids(run) == ["deadline_soon:authority_report"] and run.recalls == 1
    assert run.new[0].assignee == "alice" and run.webhook == {"url": url, "status": 204}
    assert received[0]["alerts"][0]["rule"] == "deadline_soon"
    ck.advance(hours=2)
    assert _ids(evaluate_alerts(empty_store, ck, webhook_url=url)) == []  # raised once only
    assert len(received) == 1
    ck.advance(days=2, hours=14)  # Thu 03-05 01:00 Beijing: class II notice due at the end of that day
    run = evaluate_alerts(empty_store, ck, webhook_url="")
    assert _ids(run) == ["deadline_soon:notify_customers", "overdue:authority_report"]
    R.record_milestone(empty_store, AUTHOR, rec.id, "authority_report", reference="PROV-123", clock=ck)
    R.approve(empty_store, APPROVER, rec.id, password="pw", reason="ok", clock=ck)
    R.start(empty_store, LOGISTICS, rec.id, clock=ck)
    update_customer(empty_store, LOGISTICS, rec.id, "D1", "sent", clock=ck)
    update_customer(empty_store, LOGISTICS, rec.id, "H1", "sent", clock=ck)
    update_customer(empty_store, LOGISTICS, rec.id, "H1", "acknowledged", by="Dr Wang", clock=ck)
    states = {d.clock: d.state for d in deadlines(empty_store, rec.id, clock=ck)}
    assert states["authority_report"] == "done_late" and states["notify_customers"] == "done"
    ck.advance(days=4, hours=23)
    assert "customer_not_acknowledged:D1" not in _ids(evaluate_alerts(empty_store, ck, webhook_url=""))
    ck.advance(hours=2)
    run = evaluate_alerts(empty_store, ck, webhook_url="")
    assert "customer_not_acknowledged:D1" in _ids(run) and "customer_not_acknowledged:H1" not in _ids(run)
    # effectiveness below the class II target (95 %) at day 20
    record_returns(empty_store, LOGISTICS, rec.id, "D1", "returned", qty=4, clock=ck)
    ck.advance(days=15)
    run = evaluate_alerts(empty_store, ck, webhook_url="")
    low = [a for a in run.new if a.rule == "effectiveness_low"]
    assert len(low) == 1 and "50.0 %" in low[0].message and "day 20" in low[0].message
    open_alerts = list_alerts(empty_store, recall_id=rec.id)
    assert {a.assignee for a in open_alerts} == {"alice"}
    acknowledge_alert(empty_store, AUTHOR, low[0].id, clock=ck)
    assert low[0].id not in {a.id for a in list_alerts(empty_store, recall_id=rec.id)}
    assert low[0].id in {a.id for a in list_alerts(empty_store, recall_id=rec.id, open_only=False)}


@pytest.mark.req("REQ-RCL-005")
def test_watch_runs_without_sleeping_and_unreachable_webhook(empty_store) -> None:
    build(empty_store)
    ck = clock()
    data = R.RecallCreate(jurisdiction="US-FDA", recall_class="I", reason="x", responsible="alice")
    R.create_recall_from_cause(empty_store, AUTHOR, data, ImpactCause(batches=["B1"]), clock=ck)
    slept: list[float] = []

    def fake_sleep(s: float) -> None:
        slept.append(s)
        ck.advance(seconds=s)

    runs = watch(empty_store, interval_s=3600, clock=ck, max_runs=3, sleep=fake_sleep,
                 webhook_url="http://127.0.0.1:9/none")
    assert len(runs) == 3 and slept == [3600, 3600]
    assert all(r.webhook is None or "error" in r.webhook for r in runs)
