"""Effectiveness of a recall over time: how many customers were notified and had acknowledged,
how many units were accounted for, and the effectiveness % against the class's target, after each
event or at the end of each day.

Read from what the graph holds: the recall's audit entries for customer steps
(`recall.customer.*`: sent, acknowledged, ...) and returns (`recall.return.<disposition>`), replayed
in time order with the same rules as `returns.reconcile` (the jurisdiction's accounted dispositions,
each customer counted up to the units it held at the decision, units passed on credited to their
former holder). A notice or acknowledgement counts from the time it was stated to have happened
(`at`), a return from the time it was recorded. The last point equals `effectiveness()` now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.recall.records import customers, get_recall
from tracegraph.engine.recall.returns import DISPOSITIONS
from tracegraph.engine.recall.rules import ruleset
from tracegraph.engine.stores.base import GraphStore

By = Literal["event", "day"]


class TimelinePoint(BaseModel):
    at: str = Field(description="when (ISO 8601, UTC): the event's time, or the last event of the day")
    day: str = Field(description="the calendar day of `at` in the requested time zone (YYYY-MM-DD)")
    event: str = Field(description="decision | sent | delivered | bounced | acknowledged | stock_count | return | day")
    customer: str | None = Field(None, description="the customer of the event (by event)")
    notified: int = Field(0, description="customers whose notice was sent by then (and had not "
                          "bounced since)")
    acknowledged: int = Field(0, description="customers that had acknowledged by then")
    units_returned: float = Field(0, description="units returned (disposition `returned`) by then")
    units_accounted: float = Field(0, description="units accounted for by then (the jurisdiction's dispositions, "
                                   "each customer up to what it held)")
    effectiveness_pct: float = Field(0, description="units accounted / units expected, in %")
    meets_target: bool = Field(False, description="at or above the target, and every consignee that passed units "
                               "on had acknowledged")


class EffectivenessTimeline(BaseModel):
    recall: str
    target_pct: float
    expected: float
    customers_total: int
    accounted_dispositions: list[str]
    by: str
    tz: str
    points: list[TimelinePoint] = Field(default_factory=list)


@dataclass
class _State:
    expected: dict[str, float]
    role: dict[str, str]
    accounted_set: list[str]
    target: float
    notified: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    extra_notified: int = 0  # a mass mailing names at most 1000 customers in its entry
    units: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, customer: str, disposition: str, n: float) -> None:
        per = self.units.setdefault(customer, dict.fromkeys(DISPOSITIONS, 0.0))
        per[disposition] = per.get(disposition, 0.0) + n

    def point(self, at: datetime, zone: ZoneInfo, event: str, customer: str | None) -> TimelinePoint:
        exp = sum(self.expected.values())
        acc = 0.0
        for c, e in self.expected.items():
            per = self.units.get(c, {})
            acc += min(sum(per.get(d, 0.0) for d in self.accounted_set), e)
        pct = round((100.0 * acc / exp) if exp else 100.0, 4)
        waiting = [c for c, r in self.role.items() if r in ("passed_on", "both") and c not in self.acked]
        returned = sum(per.get("returned", 0.0) for per in self.units.values())
        return TimelinePoint(
            at=at.astimezone(UTC).isoformat(timespec="seconds"), day=at.astimezone(zone).date().isoformat(),
            event=event, customer=customer,
            notified=min(len(self.notified & set(self.expected)) + self.extra_notified, len(self.expected)),
            acknowledged=len(self.acked & set(self.expected)), units_returned=returned, units_accounted=acc,
            effectiveness_pct=pct, meets_target=pct + 1e-9 >= self.target and not waiting)


def _instant(text: Any, default: datetime) -> datetime:
    if not isinstance(text, str) or not text:
        return default
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return default
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _zone(tz: str) -> ZoneInfo:
    try:
        if len(tz) > 64:
            raise ValueError(tz)
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationFailed(f"unknown time zone {tz[:64]!r}", hint="give an IANA time zone such as Asia/Shanghai or UTC",
                               field="tz") from exc


#: the change of a customer step that carries its time
STEP_FIELD = {"sent": "sent_at", "delivered": "delivered_at", "bounced": "bounced_at", "acknowledged": "acknowledged_at",
              "stock_count": "stock_counted_at"}

Event = tuple[datetime, int, str, str | None, Any]


def _events(store: GraphStore, recall_id: str) -> list[Event]:
    """(when, seq, kind, customer, what) for every step that changes the figures, in time order."""
    out: list[Event] = []
    for row in store.read("recall.timeline_events", id=recall_id):
        ts = _instant(row["ts"], datetime.now(UTC))
        action, seq = str(row["action"]), int(row["seq"])
        try:
            changes = json.loads(row["changes"] or "[]")
        except (TypeError, ValueError):
            changes = []
        if action == "recall.customer.sent_all":
            for ch in changes:
                if ch.get("field") == "customers_sent" and isinstance(ch.get("new"), dict):
                    out.append((ts, seq, "sent_all", None, ch["new"]))
        elif action.startswith("recall.customer."):
            step = action.removeprefix("recall.customer.")
            suffix = "." + STEP_FIELD.get(step, f"{step}_at")
            for ch in changes:
                f = str(ch.get("field") or "")
                if f.startswith("customer.") and f.endswith(suffix):
                    cust = f.removeprefix("customer.").removesuffix(suffix)
                    # a notice or acknowledgement counts from when it happened; a stock count when recorded
                    out.append((_instant(ch.get("new"), ts) if step != "stock_count" else ts, seq, step, cust, None))
                    break
        elif action.startswith("recall.return."):
            disposition = action.removeprefix("recall.return.")
            for ch in changes:
                f = str(ch.get("field") or "")
                if f.startswith("customer.") and isinstance(ch.get("new"), dict):
                    cust = f.removeprefix("customer.").rsplit(".", 1)[0]
                    out.append((ts, seq, "return", cust, {"disposition": disposition, **ch["new"]}))
    out.sort(key=lambda e: (e[0], e[1]))
    return out


def effectiveness_timeline(store: GraphStore, recall_id: str, *, by: By = "event",
                           tz: str = "UTC") -> EffectivenessTimeline:
    """The effectiveness series of a recall: an opening point at the decision (nothing notified,
    nothing accounted), then one point per event (`by="event"`) or per calendar day in `tz` that
    had events (`by="day"`, the figures at the end of that day)."""
    if by not in ("event", "day"):
        raise ValidationFailed(f"by must be event or day, not {by!r}", field="by")
    zone = _zone(tz)
    rec = get_recall(store, recall_id)
    rule = ruleset(rec.jurisdiction).effectiveness
    custs = customers(store, recall_id)
    st = _State(expected={c.id: float(c.units) for c in custs}, role={c.id: c.role for c in custs},
                accounted_set=[d for d in rule.accounted if d in DISPOSITIONS],
                target=float(rule.target.get(rec.recall_class, 100.0)))
    decided = _instant(rec.decision_at or rec.created_at, datetime.now(UTC))
    points = [st.point(decided, zone, "decision", None)]
    for when, _seq, kind, cust, what in _events(store, recall_id):
        if kind == "sent_all":
            ids = [str(x) for x in what.get("ids") or []]
            st.notified.update(ids)
            st.extra_notified += max(int(what.get("count") or 0) - len(ids), 0)
            kind = "sent"
        elif kind == "sent" and cust:
            st.notified.add(cust)
        elif kind == "bounced" and cust:  # not reached after all, until the notice is sent again
            st.notified.discard(cust)
        elif kind == "acknowledged" and cust:
            st.acked.add(cust)
        elif kind == "return" and cust:
            d = str(what.get("disposition"))
            credited = {str(k): float(v) for k, v in (what.get("credited_to_former_holders") or {}).items()}
            own = float(what.get("serial_count") or 0) + float(what.get("qty") or 0) - sum(credited.values())
            st.add(cust, d, own)
            for holder, n in credited.items():
                st.add(holder, d, n)
        points.append(st.point(when, zone, kind, cust))
    if by == "day":  # the decision, then the figures at the end of each day that had events
        days: dict[str, TimelinePoint] = {}
        for p in points[1:]:
            days[p.day] = p.model_copy(update={"event": "day", "customer": None})
        points = [points[0], *days.values()]
    return EffectivenessTimeline(recall=rec.id, target_pct=st.target, expected=sum(st.expected.values()),
                                 customers_total=len(custs), accounted_dispositions=st.accounted_set, by=by, tz=tz,
                                 points=points)


__all__ = ["TimelinePoint", "EffectivenessTimeline", "effectiveness_timeline"]
