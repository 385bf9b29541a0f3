"""Recall alerts: rules as data (rules/alerts.toml), evaluated on demand or by `recall watch`.

`evaluate_alerts(store, now)` looks at every open recall and raises, at most once per recall and
subject, alerts for deadlines coming up, overdue deadlines, customers who have not acknowledged
N days after their notice, and effectiveness below the class target at the check day. Alerts
are `(:Recall)-[:RAISED]->(:RecallAlert)` nodes assigned to the recall's responsible person; new
ones are POSTed as JSON to a webhook when one is configured.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.recall.clocks import deadlines
from tracegraph.engine.recall.effectiveness import effectiveness
from tracegraph.engine.recall.records import Recall, customers
from tracegraph.engine.recall.rules import AlertRule, alert_rules, ruleset
from tracegraph.engine.stores.base import GraphStore


class Alert(BaseModel):
    id: str
    recall: str
    rule: str
    kind: str
    severity: str
    subject: str
    message: str
    assignee: str
    raised_at: str
    due_at: str | None = None
    drill: bool = False
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None


class AlertRun(BaseModel):
    evaluated_at: str
    recalls: int
    new: list[Alert] = Field(default_factory=list)
    already_raised: int = 0
    webhook: dict[str, Any] | None = None


class _Fmt(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _msg(rule: AlertRule, **values: Any) -> str:
    try:
        return rule.message.format_map(_Fmt(values)) if rule.message else rule.id
    except (ValueError, TypeError):
        return rule.message


def candidate_alerts(store: GraphStore, rec: Recall, now: datetime, rules: list[AlertRule]) -> list[Alert]:
    """What the rules say about one recall at `now` (not yet deduplicated)."""
    ts = iso(now)
    out: list[Alert] = []
    base = dict(recall=rec.id, assignee=rec.responsible, raised_at=ts, drill=rec.drill)
    soon = max([r.hours or 0 for r in rules if r.kind == "deadline_within"] + [0.0])
    dls = deadlines(store, rec.id, clock=_Fixed(now), soon_hours=soon or 24.0, rec=rec)
    for d in dls:  # built in: a clock that cannot be computed is itself something to act on
        if d.state == "unreadable":
            out.append(Alert(id=f"{rec.id}:unreadable:{d.clock}", rule="unreadable_data", kind="unreadable_data",
                             severity="high", subject=d.clock, message=f"{d.name}: {d.text}", **base))
    for rule in rules:
        if rule.kind == "deadline_within":
            for d in dls:
                if d.state in ("due_soon", "pending") and d.hours_left is not None and 0 <= d.hours_left <= (rule.hours or 24):
                    out.append(Alert(id=f"{rec.id}:{rule.id}:{d.clock}:{d.due_at}", rule=rule.id, kind=rule.kind,
                                     severity=rule.severity, subject=d.clock, due_at=d.due_at,
                                     message=_msg(rule, clock=d.name, due_at=d.due_at, hours_left=d.hours_left,
                                                  article=d.article), **base))
        elif rule.kind == "overdue":
            for d in dls:
                if d.state == "overdue":
                    out.append(Alert(id=f"{rec.id}:{rule.id}:{d.clock}:{d.due_at}", rule=rule.id, kind=rule.kind,
                                     severity=rule.severity, subject=d.clock, due_at=d.due_at,
                                     message=_msg(rule, clock=d.name, due_at=d.due_at, article=d.article), **base))
        elif rule.kind == "customer_not_acknowledged":
            days = rule.days if rule.days is not None else 5
            for c in customers(store, rec.id):
                sent = _when(c.sent_at)
                if sent is not None and not c.acknowledged_at and now - sent >= timedelta(days=days):
                    out.append(Alert(id=f"{rec.id}:{rule.id}:{c.id}", rule=rule.id, kind=rule.kind,
                                     severity=rule.severity, subject=c.id,
                                     message=_msg(rule, customer=f"{c.name or c.id} ({c.id})", sent_at=c.sent_at,
                                                  days=days), **base))
        elif rule.kind == "effectiveness_below_target":
            if not rec.started_at or rec.status not in ("in_progress", "effectiveness_check"):
                continue
            eff_rule = ruleset(rec.jurisdiction).effectiveness
            day = int(rule.days) if rule.days is not None else eff_rule.check_day.get(rec.recall_class)
            if day is None:
                continue
            started = _when(rec.started_at)
            if started is None:
                continue
            elapsed = (now - started).total_seconds() / 86400
            if elapsed < day:
                continue
            eff = effectiveness(store, rec.id)
            if not eff.meets_target:
                out.append(Alert(id=f"{rec.id}:{rule.id}:day{day}", rule=rule.id, kind=rule.kind,
                                 severity=rule.severity, subject=f"day {day}",
                                 message=_msg(rule, pct=eff.overall_pct, target=eff.target_pct, day=day), **base))
    return out


def _when(ts: str | None) -> datetime | None:
    """A stored timestamp, or None when absent or unreadable (one bad value skips one rule)."""
    try:
        dt = datetime.fromisoformat(str(ts)) if ts else None
    except ValueError:
        return None
    return dt if dt is not None and dt.tzinfo is not None else None


class _Fixed:
    def __init__(self, when: datetime) -> None:
        self._when = when

    def now(self) -> datetime:
        return self._when


def post_webhook(url: str, payload: dict[str, Any], *, timeout_s: float = 5.0) -> dict[str, Any]:
    """POST JSON; returns {url, status} or {url, error}. Never raises: an unreachable webhook must
    not stop alert evaluation (the alerts are stored anyway)."""
    data = json.dumps(payload, default=str).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "tracegraph-recall"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return {"url": url, "status": resp.status}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return {"url": url, "error": str(exc)}


def _webhook_url(explicit: str | None) -> str:
    if explicit is not None:
        return explicit
    try:
        from tracegraph.settings import load_settings

        return load_settings().recall_webhook_url
    except Exception:
        return ""


def evaluate_alerts(
    store: GraphStore,
    now: datetime | Clock | None = None,
    *,
    recall_id: str | None = None,
    webhook_url: str | None = None,
    rules: list[AlertRule] | None = None,
    actor: Actor | None = None,
) -> AlertRun:
    """Evaluate every alert rule on every open recall (or one) at `now`; store and send new alerts."""
    if now is None:
        now = SystemClock().now()
    elif not isinstance(now, datetime):
        now = now.now()
    rules = rules if rules is not None else alert_rules()
    recs = [Recall.from_props(r["recall"]) for r in store.read("recall.active")]
    if recall_id:
        recs = [r for r in recs if r.id == recall_id]
    cands: dict[str, Alert] = {}
    for rec in recs:
        for a in candidate_alerts(store, rec, now, rules):
            cands.setdefault(a.id, a)
    existing = {r["id"] for r in store.read("recall.alert_ids", ids=list(cands))} if cands else set()
    new = [a for a in cands.values() if a.id not in existing]
    run = AlertRun(evaluated_at=iso(now), recalls=len(recs), new=new, already_raised=len(existing))
    if new:
        actor = actor or Actor.system("tracegraph recall alerts")
        rows = [{k: v for k, v in a.model_dump().items() if v is not None} for a in new]
        spec = AuditSpec(action="recall.alerts_raised", target_label="RecallAlert", target_key=new[0].id,
                         changes=[Change("alerts", None, [a.id for a in new], state=False)])
        audited_write(store, "recall.alerts_create", lambda: ({"alerts": rows}, spec), actor, clock=_Fixed(now))
        url = _webhook_url(webhook_url)
        if url:
            run.webhook = post_webhook(url, {"event": "recall.alerts", "evaluated_at": run.evaluated_at,
                                             "alerts": [a.model_dump() for a in new]})
    return run


def list_alerts(store: GraphStore, *, recall_id: str | None = None, assignee: str | None = None,
                open_only: bool = True, limit: int = 500) -> list[Alert]:
    rows = store.read("recall.alerts_list", recall=recall_id, assignee=assignee, open_only=open_only, limit=limit)
    return [Alert(**r["alert"]) for r in rows]


def acknowledge_alert(store: GraphStore, actor: Actor, alert_id: str, *, clock: Clock | None = None) -> Alert:
    clock = clock or SystemClock()
    now = iso(clock.now())
    spec = AuditSpec(action="recall.alert_ack", target_label="RecallAlert", target_key=alert_id,
                     changes=[Change("acknowledged_at", None, now), Change("acknowledged_by", None, actor.id)])
    audited_write(store, "recall.alert_ack", lambda: ({"id": alert_id, "now": now, "actor_id": actor.id}, spec),
                  actor, clock=clock)
    return next(a for a in list_alerts(store, open_only=False, limit=100000) if a.id == alert_id)


def watch(
    store: GraphStore,
    *,
    interval_s: float = 300.0,
    once: bool = False,
    clock: Clock | None = None,
    on_run: Callable[[AlertRun], None] | None = None,
    max_runs: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    webhook_url: str | None = None,
) -> list[AlertRun]:
    """Evaluate alerts now and then every `interval_s` seconds (until interrupted or max_runs)."""
    clock = clock or SystemClock()
    runs: list[AlertRun] = []
    while True:
        run = evaluate_alerts(store, clock, webhook_url=webhook_url)
        runs.append(run)
        if on_run:
            on_run(run)
        if once or (max_runs is not None and len(runs) >= max_runs):
            return runs
        sleep(interval_s)


__all__ = ["Alert", "AlertRun", "evaluate_alerts", "candidate_alerts", "list_alerts", "acknowledge_alert",
           "post_webhook", "watch"]
