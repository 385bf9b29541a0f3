"""Complaint report deadlines from the jurisdiction rules, and CAPA due-date alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tracegraph.engine.access import auth
from tracegraph.engine.clock import FrozenClock
from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.qms import CAPA, COMPLAINT, move, open_record
from tracegraph.engine.qms.alerts import alerts_by_owner, capa_alerts
from tracegraph.engine.qms.insights import open_items
from tracegraph.engine.qms.vigilance import report_deadline

PW = {"admin": "Root-Passw0rd-1!", "qa.ann": "Ann-Passw0rd-QA!", "qa.bob": "Bob-Passw0rd-QA!"}


@pytest.fixture(scope="module")
def users(store):  # type: ignore[no-untyped-def]
    auth.init_admin(store, "admin", "Ada Admin", PW["admin"])
    admin = auth.authenticate(store, "admin", PW["admin"], session="s-admin")
    auth.add_user(store, admin, "qa.ann", "Ann Author", PW["qa.ann"], ["qa_manager"])
    auth.add_user(store, admin, "qa.bob", "Bob Approver", PW["qa.bob"], ["qa_manager"])
    store.run("CREATE (:Serial {id: 'S-1'})")
    return {u: auth.authenticate(store, u, PW[u], session=f"s-{u}") for u in PW}


@pytest.mark.parametrize("jurisdiction,severity,five_day,due,clock", [
    ("EU-MDR", "serious_injury", False, "2026-03-16T22:59:59", "serious_incident"),        # Art. 87(3): 15 days
    ("EU-MDR", "death", False, "2026-03-11T22:59:59", "death_or_deterioration"),           # Art. 87(5): 10 days
    ("EU-MDR", "public_health_threat", False, "2026-03-03T22:59:59", "public_health_threat"),  # Art. 87(4): 2 days
    ("US-FDA", "malfunction", False, "2026-04-01T03:59:59", "mdr_30_day"),                 # 803.50: 30 days, NY time
    ("US-FDA", "malfunction", True, "2026-03-07T04:59:59", "mdr_5_day"),                   # 803.53: 5 work days
    ("CN-NMPA", "death", False, "2026-03-08T15:59:59", "ae_death"),                        # 7 days, Beijing time
])
@pytest.mark.req("REQ-QMS-001")
def test_report_deadline_per_jurisdiction(jurisdiction: str, severity: str, five_day: bool, due: str, clock: str) -> None:
    d = report_deadline(jurisdiction, severity, "2026-03-01", five_day=five_day)
    assert (d.due_at[:19], d.clock) == (due, clock)


def test_work_days_skip_the_jurisdictions_holidays() -> None:
    # aware Thu 2026-05-21: Fri 22, (Mon 25 is Memorial Day), 26, 27, 28, 29 -> end of Fri 29 New York time
    assert report_deadline("US-FDA", "death", "2026-05-21", five_day=True).due_at[:19] == "2026-05-30T03:59:59"
    with pytest.raises(ValidationFailed, match="no complaint reporting rules"):
        report_deadline("XX", "death", "2026-05-21")
    with pytest.raises(ValidationFailed, match="severity"):
        report_deadline("EU-MDR", "annoying", "2026-05-21")


@pytest.mark.req("REQ-QMS-001")
def test_reportable_complaint_gets_report_due_and_is_overdue_until_reported(store, users) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    c = open_record(store, COMPLAINT, users["qa.ann"],
                    {"reporter": "Clinic", "event_date": "2026-02-27", "description": "no alarm", "aware_at": "2026-03-01",
                     "jurisdiction": "US-FDA"}, about={"Serial": ["S-1"]}, clock=clock)
    move(store, COMPLAINT, users["qa.ann"], c.id, "investigate", clock=clock)
    c = move(store, COMPLAINT, users["qa.ann"], c.id, "decide-reportability", clock=clock,
             fields={"reportable": True, "reportability_rationale": "could cause injury", "severity": "malfunction"})
    assert c.props["report_due"][:19] == "2026-04-01T03:59:59" and c.props["report_article"] == "21 CFR 803.50(a)"
    late = FrozenClock(datetime(2026, 4, 2, tzinfo=UTC))
    item = {i.id: i for i in open_items(store, clock=late).items}[c.id]
    assert item.overdue and item.due_date == c.props["report_due"]
    assert not {i.id: i for i in open_items(store, clock=clock).items}[c.id].overdue
    with pytest.raises(ValidationFailed, match="reported_at"):
        move(store, COMPLAINT, users["qa.ann"], c.id, "report", clock=clock)
    move(store, COMPLAINT, users["qa.ann"], c.id, "report", fields={"reported_at": "2026-03-20"}, clock=clock)
    assert not {i.id: i for i in open_items(store, clock=late).items}[c.id].overdue
    # deciding "not reportable" clears the deadline
    c2 = open_record(store, COMPLAINT, users["qa.ann"], {"reporter": "R", "event_date": "2026-03-01", "description": "d"},
                     clock=clock)
    c2 = move(store, COMPLAINT, users["qa.ann"], c2.id, "decide-reportability", clock=clock,
              fields={"reportable": False, "reportability_rationale": "cosmetic"})
    assert "report_due" not in c2.props


@pytest.mark.req("REQ-QMS-001")
def test_a_reportable_complaint_cannot_close_before_the_report(store, users) -> None:  # type: ignore[no-untyped-def]
    c = open_record(store, COMPLAINT, users["qa.ann"], {"reporter": "R", "event_date": "2026-03-01", "description": "d",
                                                        "jurisdiction": "EU-MDR", "severity": "death"})
    move(store, COMPLAINT, users["qa.ann"], c.id, "investigate")
    move(store, COMPLAINT, users["qa.ann"], c.id, "decide-reportability",
         fields={"reportable": True, "reportability_rationale": "death"})
    move(store, COMPLAINT, users["qa.ann"], c.id, "conclude", fields={"investigation": "i", "conclusion": "c"})
    with pytest.raises(ValidationFailed, match="no report is recorded"):
        move(store, COMPLAINT, users["qa.bob"], c.id, "close", password=PW["qa.bob"], username="qa.bob")


def _capa(store, actor, title: str, due: str):  # type: ignore[no-untyped-def]
    return open_record(store, CAPA, actor, {"title": title, "source": "audit", "problem": "p", "owner": actor.id,
                                            "due_date": due})


@pytest.mark.req("REQ-QMS-002")
def test_capa_alerts_overdue_and_due_soon_by_owner(store, users) -> None:  # type: ignore[no-untyped-def]
    over = _capa(store, users["qa.ann"], "late", "2026-03-25")
    soon = _capa(store, users["qa.bob"], "soon", "2026-04-05")
    _capa(store, users["qa.bob"], "later", "2026-06-01")
    done = _capa(store, users["qa.ann"], "closed one", "2026-03-01")
    store.run("MATCH (c:CAPA {id: $id}) SET c.status = 'closed'", {"id": done.id})
    clock = FrozenClock(datetime(2026, 4, 1, 12, tzinfo=UTC))
    alerts = capa_alerts(store, clock=clock, within_days=7)
    assert [(a.capa, a.state, a.days_left, a.owner) for a in alerts] == [
        (over.id, "overdue", -7, "qa.ann"), (soon.id, "due_soon", 4, "qa.bob")]
    assert alerts[0].severity == "critical" and "7 day(s) overdue" in alerts[0].message
    assert [a.capa for a in capa_alerts(store, clock.now(), within_days=0)] == [over.id]
    assert set(alerts_by_owner(alerts)) == {"qa.ann", "qa.bob"}
    assert [a.capa for a in capa_alerts(store, clock=clock, owner="qa.bob")] == [soon.id]
    items = open_items(store, clock=clock)
    assert {a["capa"] for a in items.alerts} == {over.id, soon.id}
    assert {i.id for i in items.items if i.overdue} >= {over.id}


def test_cli_alerts(store, users, embedded_server) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from tracegraph.cli import app

    env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": store.graph_name,
           "TRACEGRAPH_USER": "qa.ann", "TRACEGRAPH_PASSWORD": PW["qa.ann"]}
    runner = CliRunner()
    r = runner.invoke(app, ["qms", "alerts", "--owner", "qa.ann", "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert {a["state"] for a in json.loads(r.stdout)} == {"overdue"}  # the test CAPAs are due in 2026-03/04
    r = runner.invoke(app, ["qms", "alerts"], env=env)
    assert r.exit_code == 4 and "overdue" in r.output
    r = runner.invoke(app, ["qms", "open-items", "--json"], env=env)
    assert r.exit_code == 0 and json.loads(r.stdout)["alerts"], r.output
