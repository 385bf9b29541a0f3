"""Due dates of a recall from its jurisdiction's clocks (rules as data), and what is overdue.

A clock starts at a recall event (decision, initiation, completion, awareness) and is done by
another (a recorded milestone, all customers notified...). Periodic clocks (progress / status
reports) are due one interval after the last report, until the recall is completed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.recall.records import Recall, get_recall
from tracegraph.engine.recall.rules import ClockRule, RuleSet, add_period, ruleset
from tracegraph.engine.stores.base import GraphStore

DeadlineState = Literal["not_started", "pending", "due_soon", "overdue", "done", "done_late", "not_applicable",
                        "unreadable"]


class Deadline(BaseModel):
    recall: str
    clock: str
    name: str
    article: str
    text: str
    verified: bool
    article_checked: bool
    start_event: str
    started_at: str | None
    due_at: str | None
    done_at: str | None
    state: DeadlineState
    hours_left: float | None = None
    period: str = ""


class UnreadableTime(ValueError):
    """A stored recall time that is not an ISO 8601 timestamp with a timezone."""


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    try:
        dt = datetime.fromisoformat(str(ts))
    except ValueError:
        raise UnreadableTime(f"{ts!r} is not an ISO 8601 timestamp") from None
    if dt.tzinfo is None:
        raise UnreadableTime(f"{ts!r} has no timezone")
    return dt


def _period_text(rule: ClockRule, cls: str) -> str:
    amount = rule.due.get(cls)
    unit = rule.unit.replace("_", " ")
    return f"{amount:g} {unit}" + (" (repeating)" if rule.periodic else "")


def deadline_for(rule: ClockRule, rec: Recall, rs: RuleSet, now: datetime, soon_hours: float = 24.0) -> Deadline:
    record = rec.as_clock_record()
    started = _parse(record.get(rule.start))
    done = _parse(record.get(rule.done))
    base = dict(recall=rec.id, clock=rule.id, name=rule.name, article=rule.article, text=rule.text,
                verified=rule.verified, article_checked=rule.article_checked, start_event=rule.start,
                period=_period_text(rule, rec.recall_class))
    if not rule.applies(record) or rec.recall_class not in rule.due:
        return Deadline(**base, started_at=None, due_at=None, done_at=None, state="not_applicable")
    if started is None:
        return Deadline(**base, started_at=None, due_at=None, done_at=iso(done) if done else None,
                        state="done" if done else "not_started")
    amount = rule.due[rec.recall_class]
    if rule.periodic:
        reports = sorted(_parse(x) for x in record.get(rule.periodic) or [])  # type: ignore[type-var]
        last = reports[-1] if reports else started
        due = add_period(last, amount, rule.unit, rs)  # type: ignore[arg-type]
        if done is not None:
            return Deadline(**base, started_at=iso(started), due_at=iso(due), done_at=iso(done), state="done")
        done = None
    else:
        due = add_period(started, amount, rule.unit, rs)
        if rule.before:
            limit = _parse(record.get(rule.before))
            if limit is not None and limit < due:
                due = limit
    if done is not None:
        state: DeadlineState = "done" if done <= due else "done_late"
        return Deadline(**base, started_at=iso(started), due_at=iso(due), done_at=iso(done), state=state)
    left = (due - now).total_seconds() / 3600
    state = "overdue" if left < 0 else ("due_soon" if left <= soon_hours else "pending")
    return Deadline(**base, started_at=iso(started), due_at=iso(due), done_at=None, state=state,
                    hours_left=round(left, 2))


def deadlines(store: GraphStore, recall_id: str, *, clock: Clock | None = None, soon_hours: float = 24.0,
              rec: Recall | None = None) -> list[Deadline]:
    """Every clock of the recall's jurisdiction, with its due date and state at `clock.now()`."""
    clock = clock or SystemClock()
    rec = rec or get_recall(store, recall_id)
    rs = ruleset(rec.jurisdiction)
    now = clock.now()
    out = [_deadline_or_unreadable(rule, rec, rs, now, soon_hours) for rule in rs.clocks]
    if rec.status in ("closed", "cancelled"):
        for d in out:
            if d.state in ("pending", "due_soon", "overdue"):
                d.state = "not_applicable" if rec.status == "cancelled" else d.state
    return out


def _deadline_or_unreadable(rule: ClockRule, rec: Recall, rs: RuleSet, now: datetime, soon_hours: float) -> Deadline:
    """One clock; a stored time that cannot be read makes THIS clock 'unreadable' (saying which
    value), never a traceback for every recall (a recall stored before input validation, or
    edited by hand, must not hide the deadlines of the others)."""
    try:
        return deadline_for(rule, rec, rs, now, soon_hours)
    except UnreadableTime as exc:
        return Deadline(recall=rec.id, clock=rule.id, name=rule.name, article=rule.article,
                        text=f"cannot compute: a stored time of this recall is unreadable ({exc}); correct the recall "
                             "record", verified=rule.verified, article_checked=rule.article_checked,
                        start_event=rule.start, started_at=None, due_at=None, done_at=None, state="unreadable",
                        period=_period_text(rule, rec.recall_class))


def overdue(store: GraphStore, recall_id: str, *, clock: Clock | None = None) -> list[Deadline]:
    return [d for d in deadlines(store, recall_id, clock=clock) if d.state == "overdue"]


__all__ = ["Deadline", "deadline_for", "deadlines", "overdue", "timedelta"]
