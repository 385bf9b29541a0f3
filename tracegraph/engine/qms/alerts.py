"""CAPA due-date alerts: every CAPA not closed whose due date has passed (overdue) or falls
within N days (due soon), addressed to its owner. The clock is injectable so "today" is
reproducible in tests and in reports run for a past day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel

from tracegraph.engine.access.permissions import require
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.clock import Clock, SystemClock
from tracegraph.engine.stores.base import GraphStore


class CapaAlert(BaseModel):
    capa: str
    title: str | None = None
    owner: str | None = None
    status: str
    due_date: str
    days_left: int
    state: str  # overdue | due_soon
    severity: str  # critical (overdue) | warning
    message: str


def capa_alerts(store: GraphStore, now: datetime | None = None, *, within_days: int = 7, owner: str | None = None,
                clock: Clock | None = None, actor: Actor | None = None) -> list[CapaAlert]:
    """CAPAs overdue or due within `within_days` days of `now` (default: the clock's now)."""
    if actor is not None:
        require(actor, "qms.read")
    today: date = (now or (clock or SystemClock()).now()).date()
    until = (today + timedelta(days=within_days)).isoformat()
    out = []
    for r in store.read("quality.capa_due", until=until, owner=owner):
        due = str(r["due_date"])[:10]
        left = (date.fromisoformat(due) - today).days
        state = "overdue" if left < 0 else "due_soon"
        msg = (f"CAPA {r['id']} is {-left} day(s) overdue (due {due})" if left < 0
               else f"CAPA {r['id']} is due in {left} day(s) ({due})")
        out.append(CapaAlert(capa=r["id"], title=r.get("title"), owner=r.get("owner"), status=r["status"], due_date=due,
                             days_left=left, state=state, severity="critical" if left < 0 else "warning",
                             message=msg + f"; owner {r.get('owner') or '?'}"))
    return out


def alerts_by_owner(alerts: list[CapaAlert]) -> dict[str, list[CapaAlert]]:
    out: dict[str, list[CapaAlert]] = {}
    for a in alerts:
        out.setdefault(a.owner or "?", []).append(a)
    return out


__all__ = ["CapaAlert", "capa_alerts", "alerts_by_owner"]
