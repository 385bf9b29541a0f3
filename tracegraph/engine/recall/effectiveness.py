"""Effectiveness of a recall: the share of field units accounted for, per customer and overall,
against the target of the recall's class (rules/<jurisdiction>.toml [effectiveness]).

Consignees that passed affected units on (a distributor that broke a pallet down and shipped the
cases to hospitals) hold few or no units, so the unit figure cannot show whether they acted; their
acknowledgement (stock checked, notice passed on to their own customers, 21 CFR 7.49) can. Until
each has acknowledged the recall does not meet its target, however many units are accounted for:
closing it then needs the same signed exception as a unit shortfall."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import Conflict
from tracegraph.engine.recall.records import get_recall
from tracegraph.engine.recall.returns import CustomerReconciliation, reconcile
from tracegraph.engine.recall.rules import ruleset
from tracegraph.engine.recall.signing import require_recall
from tracegraph.engine.stores.base import GraphStore


class Effectiveness(BaseModel):
    recall: str
    recall_class: str
    target_pct: float
    overall_pct: float
    meets_target: bool
    expected: float
    accounted: float
    check_day: int | None = None
    check_level: str | None = None
    justification: str = ""
    customers: list[CustomerReconciliation] = Field(default_factory=list)
    customers_acknowledged: int = 0
    customers_total: int = 0
    consignees_passed_on: int = Field(0, description="consignees that passed affected units on (role passed_on "
                                      "or both): each must acknowledge and pass the notice on")
    awaiting_acknowledgement: list[str] = Field(
        default_factory=list, description="consignees that passed units on and have not acknowledged yet: the "
        "recall does not meet its target until they have")


def effectiveness(store: GraphStore, recall_id: str) -> Effectiveness:
    rec = get_recall(store, recall_id)
    rule = ruleset(rec.jurisdiction).effectiveness
    rc = reconcile(store, recall_id)
    target = float(rule.target.get(rec.recall_class, 100.0))
    pct = round(rc.pct, 4)
    passing = [c for c in rc.customers if c.role in ("passed_on", "both")]
    waiting = sorted(c.customer for c in passing if not c.acknowledged)
    return Effectiveness(
        recall=rec.id, recall_class=rec.recall_class, target_pct=target, overall_pct=pct,
        meets_target=pct + 1e-9 >= target and not waiting, expected=rc.expected, accounted=rc.accounted,
        consignees_passed_on=len(passing), awaiting_acknowledgement=waiting,
        check_day=rule.check_day.get(rec.recall_class), check_level=rule.check_level.get(rec.recall_class),
        justification=rule.justification, customers=rc.customers,
        customers_acknowledged=sum(1 for c in rc.customers if c.acknowledged), customers_total=len(rc.customers),
    )


def record_effectiveness_check(store: GraphStore, actor: Actor, recall_id: str, *, note: str = "",
                               clock: Clock | None = None) -> Effectiveness:
    """Store the effectiveness check on the recall (audited): who checked, when, the figure."""
    clock = clock or SystemClock()
    require_recall(actor, "recall.execute")
    rec = get_recall(store, recall_id)
    if rec.status not in ("in_progress", "effectiveness_check"):
        raise Conflict(f"recall {rec.id} is {rec.status}; effectiveness is checked while in progress or in check")
    eff = effectiveness(store, recall_id)
    now = iso(clock.now())
    props = {"effectiveness_pct": eff.overall_pct, "effectiveness_checked_at": now,
             "effectiveness_checked_by": actor.id, "updated_at": now}
    spec = AuditSpec(action="recall.effectiveness_check", target_label="Recall", target_key=rec.id,
                     changes=[Change("effectiveness_pct", rec.effectiveness_pct, eff.overall_pct),
                              Change("effectiveness_checked_at", rec.effectiveness_checked_at, now),
                              Change("effectiveness_target", None, eff.target_pct, state=False)],
                     reason=note)
    params = {"id": rec.id, "from_status": ["in_progress", "effectiveness_check"], "props": props, "signatures": []}
    audited_write(store, "recall.transition", lambda: (params, spec), actor, clock=clock)
    return eff


def day_of_recall(started_at: str | None, now: datetime) -> int | None:
    if not started_at:
        return None
    return (now - datetime.fromisoformat(started_at)).days


__all__ = ["Effectiveness", "effectiveness", "record_effectiveness_check", "day_of_recall"]
