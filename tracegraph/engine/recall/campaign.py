"""Recall campaigns: from an impact result to a closed, effective, documented recall.

A Recall freezes its affected set at decision time: `(Recall)-[:COVERS {qty, status_at_decision,
customer_at_decision}]->(Serial|Batch)` and `(Recall)-[:AFFECTS {units, notification and
reconciliation state}]->(Customer)`. Later changes of the graph are shown as a difference
(`snapshot_diff`), never absorbed silently, because the decision and its signatures were about
that snapshot.

Lifecycle (each step one audited statement; approval and closure carry e-signatures):

    draft --approve--> approved --start--> in_progress --complete--> effectiveness_check --close--> closed
      \\______________________________cancel_____________________________________________/--> cancelled

Related modules (this package): records (the models and reads), scope (affected set), rules
(clocks as data), clocks (deadlines), notify (customers, letters), returns (returns, quarantine,
shipping check), effectiveness, alerts, drill.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import Conflict, ValidationFailed
from tracegraph.engine.inputs import Instant, Key, Text
from tracegraph.engine.recall.effectiveness import effectiveness
from tracegraph.engine.recall.records import (
    MILESTONES,
    Depth,
    IncidentSeverity,
    Recall,
    RecallCustomer,
    RecallType,
    customers,
    get_recall,
    list_recalls,
    recall_props,
    signatures,
)
from tracegraph.engine.recall.returns import quarantine as _quarantine
from tracegraph.engine.recall.rules import CLASSES, JURISDICTIONS, ruleset
from tracegraph.engine.recall.scope import AffectedSet, identify
from tracegraph.engine.recall.signing import require_recall, signature_for
from tracegraph.engine.stores.base import GraphStore
from tracegraph.engine.trace.models import ImpactCause

#: allowed predecessors of each status
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "approved": ("draft",),
    "in_progress": ("approved",),
    "effectiveness_check": ("in_progress",),
    "closed": ("effectiveness_check",),
    "cancelled": ("draft", "approved", "in_progress", "effectiveness_check"),
}

class RecallCreate(BaseModel):
    """What the recall decision says (the affected set comes from the impact query)."""

    id: Key | None = Field(None, description="business key; generated RC-YYYYMMDD-xxxxxx if absent")
    jurisdiction: Literal["CN-NMPA", "US-FDA", "EU-MDR"]
    recall_class: Literal["I", "II", "III"]
    type: RecallType = "removal"
    reason: Text
    health_hazard: Text = ""
    depth: Depth = "user"
    responsible: Key = Field(..., description="user id of the responsible person (alerts go there)")
    team: list[Key] = Field(default_factory=list)
    strategy: Text = ""
    incident_severity: IncidentSeverity = "none"
    aware_at: Instant | None = Field(None, description="EU MDR: when the manufacturer became aware (ISO 8601 "
                                     "timestamp with a timezone; not in the future)")
    drill: bool = False

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a recall needs a reason")
        return v.strip()

    @field_validator("aware_at")
    @classmethod
    def _aware_past(cls, v: str | None) -> str | None:
        from datetime import datetime, timedelta

        if v and v > (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="microseconds"):
            raise ValueError(f"aware_at {v} is in the future")
        return v


class CreatedRecall(BaseModel):
    recall: Recall
    audit_seq: int
    missing_serials: int = 0
    timings_ms: dict[str, float] = Field(default_factory=dict)


class SnapshotDiff(BaseModel):
    """What changed since the decision: shown to the user, never absorbed into the snapshot."""

    recall: str
    covered_units: int
    now_affected_not_covered: list[str] = Field(default_factory=list)
    covered_not_affected_now: list[str] = Field(default_factory=list)
    status_changed: list[dict[str, Any]] = Field(default_factory=list)
    status_changed_total: int = 0

    @property
    def clean(self) -> bool:
        return not (self.now_affected_not_covered or self.covered_not_affected_now or self.status_changed)


# ---------------------------------------------------------------------------------------
# creating
# ---------------------------------------------------------------------------------------


def _new_id(prefix: str, clock: Clock) -> str:
    return f"{prefix}-{clock.now().strftime('%Y%m%d')}-{uuid.uuid4().hex[:6].upper()}"


def create_recall(
    store: GraphStore,
    actor: Actor,
    data: RecallCreate,
    affected: AffectedSet,
    *,
    clock: Clock | None = None,
) -> CreatedRecall:
    """Record the recall decision with its frozen affected set: ONE statement, ONE audit entry,
    however many units (COVERS edges are created by UNWIND inside that statement)."""
    import time

    clock = clock or SystemClock()
    require_recall(actor, "recall.drill" if data.drill else "recall.create")
    rs = ruleset(data.jurisdiction)
    if data.recall_class not in rs.classes:
        raise ValidationFailed(f"class {data.recall_class} is not defined for {data.jurisdiction}")
    if affected.units == 0:
        raise ValidationFailed("the affected set is empty: nothing to recall",
                               hint="check the cause (lot, batch, supplier...) with `tracegraph impact`")
    now = iso(clock.now())
    rid = data.id or _new_id("DRILL" if data.drill else "RC", clock)
    field_units = sum(c.units for c in affected.customers)
    props: dict[str, Any] = {
        "id": rid, "status": "draft", "jurisdiction": data.jurisdiction, "recall_class": data.recall_class,
        "type": data.type, "reason": data.reason, "health_hazard": data.health_hazard, "depth": data.depth,
        "responsible": data.responsible, "team": list(data.team), "strategy": data.strategy,
        "incident_severity": data.incident_severity, "drill": data.drill,
        "created_by": actor.id, "created_at": now, "updated_at": now, "decision_at": now,
        "aware_at": data.aware_at or now, "source": actor.id, "rules_version": f"{rs.jurisdiction}@{rs.version}",
        "cause_json": json.dumps(affected.cause, sort_keys=True, default=str),
        "snapshot_digest": affected.digest(), "units_covered": float(affected.units),
        "field_units": float(field_units), "identified_by": affected.source,
    }
    serial_ids = [s.id for s in affected.serials]
    params = {
        "props": props, "serials": serial_ids, "batches": affected.batch_rows(),
        "customers": affected.customer_rows(rs.default_language),
    }
    spec = AuditSpec(
        action="recall.create", target_label="Recall", target_key=rid,
        changes=[
            Change("status", None, "draft"),
            Change("recall_class", None, data.recall_class),
            Change("jurisdiction", None, data.jurisdiction),
            Change("snapshot_digest", None, props["snapshot_digest"]),
            Change("covered", None, {"serials": len(serial_ids), "batches": len(params["batches"]),
                                     "customers": len(params["customers"]), "units": affected.units},
                   state=False),
        ],
        reason=data.reason,
    )
    t0 = time.perf_counter()
    rows = audited_write(store, "recall.create", lambda: (params, spec), actor, clock=clock)
    write_ms = (time.perf_counter() - t0) * 1000
    rec = get_recall(store, rid)
    return CreatedRecall(recall=rec, audit_seq=int(rows[0]["audit_seq"]),
                         missing_serials=len(serial_ids) - rec.serials_covered,
                         timings_ms={"identify": affected.identify_ms, "snapshot": write_ms})


def create_recall_from_cause(
    store: GraphStore, actor: Actor, data: RecallCreate, cause: ImpactCause, *, clock: Clock | None = None
) -> CreatedRecall:
    """Identify (impact analysis) then create the recall from what was found."""
    return create_recall(store, actor, data, identify(store, cause), clock=clock)


# ---------------------------------------------------------------------------------------
# lifecycle
# ---------------------------------------------------------------------------------------


def _signed_content(rec: Recall) -> dict[str, Any]:
    return {"id": rec.id, "jurisdiction": rec.jurisdiction, "recall_class": rec.recall_class, "type": rec.type,
            "reason": rec.reason, "snapshot_digest": rec.snapshot_digest, "units_covered": rec.units_covered}


def transition(
    store: GraphStore,
    actor: Actor,
    rec: Recall,
    to: str,
    props: dict[str, Any],
    *,
    action: str,
    reason: str = "",
    signature: dict[str, Any] | None = None,
    clock: Clock,
) -> Recall:
    if rec.status not in TRANSITIONS[to]:
        raise Conflict(
            f"recall {rec.id} is {rec.status}; {action.split('.')[-1]} needs it to be {' or '.join(TRANSITIONS[to])}",
            hint=f"see `tracegraph recall show {rec.id}` for its state",
        )
    now = iso(clock.now())
    props = {"status": to, "updated_at": now, **props}
    changes = [Change(k, getattr(rec, k, None), v) for k, v in props.items() if k != "updated_at"]
    if signature:
        changes.append(Change("signature", None, {"id": signature["id"], "meaning": signature["meaning"],
                                                  "signer": signature["signer_id"],
                                                  "content_hash": signature["content_hash"]}, state=False))
    spec = AuditSpec(action=action, target_label="Recall", target_key=rec.id, changes=changes, reason=reason)
    params = {"id": rec.id, "from_status": list(TRANSITIONS[to]), "props": props,
              "signatures": [signature] if signature else []}
    audited_write(store, "recall.transition", lambda: (params, spec), actor, clock=clock)
    return get_recall(store, rec.id)


def approve(store: GraphStore, signer: Actor, recall_id: str, *, password: str | None, reason: str,
            clock: Clock | None = None) -> Recall:
    """Approve the recall decision with an electronic signature (approver is not the author)."""
    clock = clock or SystemClock()
    require_recall(signer, "recall.drill" if recall_props(store, recall_id).get("drill") else "recall.approve")
    rec = get_recall(store, recall_id)
    if rec.status != "draft":
        raise Conflict(f"recall {rec.id} is {rec.status}; only a draft can be approved")
    now = iso(clock.now())
    change = {"approved_at": now, "approved_by": signer.id}
    post = {**recall_props(store, recall_id), "status": "approved", "updated_at": now, **change}
    sig = signature_for(store=store, signer=signer, step="approve", record=rec.model_dump(), content=_signed_content(rec),
                        password=password, reason=reason, ts=now, post_props=post)
    return transition(store, signer, rec, "approved", change,
                       action="recall.approve", reason=reason, signature=sig, clock=clock)


def start(store: GraphStore, actor: Actor, recall_id: str, *, quarantine: bool = True,
          clock: Clock | None = None) -> Recall:
    """Initiate the field action (regulatory clocks that run from initiation start now) and, outside
    a drill, quarantine covered stock so it cannot ship."""
    clock = clock or SystemClock()
    require_recall(actor, "recall.execute")
    rec = get_recall(store, recall_id)
    out = transition(store, actor, rec, "in_progress", {"started_at": iso(clock.now())},
                      action="recall.start", clock=clock)
    if quarantine and not rec.drill:

        _quarantine(store, actor, recall_id, clock=clock)
        out = get_recall(store, recall_id)
    return out


def complete(store: GraphStore, actor: Actor, recall_id: str, *, reason: str = "",
             clock: Clock | None = None) -> Recall:
    """Field actions done: the effectiveness check (and post-completion reports) start."""
    clock = clock or SystemClock()
    require_recall(actor, "recall.execute")
    rec = get_recall(store, recall_id)
    return transition(store, actor, rec, "effectiveness_check", {"completed_at": iso(clock.now())},
                       action="recall.complete", reason=reason, clock=clock)


def close(store: GraphStore, signer: Actor, recall_id: str, *, password: str | None, reason: str,
          exception_justification: str | None = None, clock: Clock | None = None) -> Recall:
    """Close with an e-signature. Refused below the class's effectiveness target unless QA signs a
    justified exception (a second signature with meaning `exception`)."""

    clock = clock or SystemClock()
    require_recall(signer, "recall.close")
    rec = get_recall(store, recall_id)
    if rec.status != "effectiveness_check":
        raise Conflict(f"recall {rec.id} is {rec.status}; close needs effectiveness_check",
                       hint=f"run `tracegraph recall effectiveness {rec.id} --complete` first")
    eff = effectiveness(store, recall_id)
    now = iso(clock.now())
    props: dict[str, Any] = {"closed_at": now, "closed_by": signer.id, "effectiveness_pct": eff.overall_pct}
    if not eff.meets_target and exception_justification and exception_justification.strip():
        props["exception"] = exception_justification.strip()
    post = {**recall_props(store, recall_id), "status": "closed", "updated_at": now, **props}
    sigs = [signature_for(store=store, signer=signer, step="close", record=rec.model_dump(), content=_signed_content(rec),
                          password=password, reason=reason, ts=now, post_props=post)]
    if not eff.meets_target:
        if not exception_justification or not exception_justification.strip():
            if eff.overall_pct + 1e-9 >= eff.target_pct:  # the units are there; a pass-through consignee is not
                raise Conflict(
                    f"recall {rec.id}: {len(eff.awaiting_acknowledgement)} consignee(s) that passed units on have "
                    f"not acknowledged ({', '.join(eff.awaiting_acknowledgement[:10])}): closure refused",
                    hint="record their acknowledgement (`tracegraph recall ack`), or have QA sign a justified "
                         "exception (--exception TEXT)",
                )
            raise Conflict(
                f"recall {rec.id} is at {eff.overall_pct:.1f} % accounted, below the class {rec.recall_class} "
                f"target of {eff.target_pct:.1f} %: closure refused",
                hint="account for more units, or have QA sign a justified exception (--exception TEXT)",
            )
        require_recall(signer, "recall.exception")
        sigs.append(signature_for(store=store, signer=signer, step="exception", record=rec.model_dump(),
                                  content={**_signed_content(rec), "effectiveness_pct": eff.overall_pct,
                                           "justification": exception_justification},
                                  password=password, reason=exception_justification, ts=now, post_props=post))
    if rec.status not in TRANSITIONS["closed"]:
        raise Conflict(f"recall {rec.id} is {rec.status}")
    now_changes = {**props}
    spec_changes = [Change(k, getattr(rec, k, None), v) for k, v in {"status": "closed", **now_changes}.items()]
    for s in sigs:
        spec_changes.append(Change(f"signature.{s['meaning']}", None, {"id": s["id"], "signer": s["signer_id"],
                                                                      "content_hash": s["content_hash"]}, state=False))
    spec = AuditSpec(action="recall.close", target_label="Recall", target_key=rec.id, changes=spec_changes,
                     reason=reason)
    params = {"id": rec.id, "from_status": list(TRANSITIONS["closed"]),
              "props": {"status": "closed", "updated_at": now, **props}, "signatures": sigs}
    audited_write(store, "recall.transition", lambda: (params, spec), signer, clock=clock)
    return get_recall(store, rec.id)


def cancel(store: GraphStore, actor: Actor, recall_id: str, *, reason: str, clock: Clock | None = None) -> Recall:
    clock = clock or SystemClock()
    require_recall(actor, "recall.approve")
    if not reason.strip():
        raise ValidationFailed("cancelling a recall needs a reason")
    rec = get_recall(store, recall_id)
    return transition(store, actor, rec, "cancelled", {"cancelled_at": iso(clock.now())},
                       action="recall.cancel", reason=reason, clock=clock)


def record_milestone(store: GraphStore, actor: Actor, recall_id: str, milestone: str, *, at: str | None = None,
                     reference: str = "", clock: Clock | None = None) -> Recall:
    """Record a regulatory submission (authority report, plan, 806 report, FSN...), or one more
    periodic progress report (`milestone="progress_report"`)."""
    clock = clock or SystemClock()
    require_recall(actor, "recall.execute")
    rec = get_recall(store, recall_id)
    if rec.status in ("closed", "cancelled"):
        raise Conflict(f"recall {rec.id} is {rec.status}")
    if at is not None:  # a submission time is an instant: ISO 8601 with a timezone, like every stored time
        from tracegraph.engine.inputs import parse_instant, refuse

        try:
            at = parse_instant(at)
        except ValueError as exc:
            raise refuse("at", str(exc), record=f"milestone {milestone}",
                         hint="write e.g. 2026-03-05T09:30:00+08:00") from None
    when = at or iso(clock.now())
    props: dict[str, Any] = {"updated_at": iso(clock.now())}
    if milestone == "progress_report":
        props["progress_reports"] = [*rec.progress_reports, when]
        changes = [Change("progress_reports", rec.progress_reports, props["progress_reports"])]
    elif milestone in MILESTONES:
        props[f"m_{milestone}_at"] = when
        props[f"m_{milestone}_ref"] = reference
        changes = [Change(f"m_{milestone}_at", rec.milestones.get(milestone), when),
                   Change(f"m_{milestone}_ref", None, reference)]
    else:
        raise ValidationFailed(f"unknown milestone {milestone!r}",
                               hint=f"use progress_report or one of {', '.join(MILESTONES)}")
    spec = AuditSpec(action=f"recall.milestone.{milestone}", target_label="Recall", target_key=rec.id,
                     changes=changes, reason=reference)
    params = {"id": rec.id, "from_status": ["draft", "approved", "in_progress", "effectiveness_check"],
              "props": {**props}, "signatures": []}
    # `transition` with status unchanged: reuse the guarded statement without a status change
    audited_write(store, "recall.transition", lambda: (params, spec), actor, clock=clock)
    return get_recall(store, rec.id)


# ---------------------------------------------------------------------------------------
# snapshot vs now
# ---------------------------------------------------------------------------------------


def snapshot_diff(store: GraphStore, recall_id: str, *, current: AffectedSet | None = None,
                  limit: int = 1000) -> SnapshotDiff:
    """Compare the frozen snapshot with the graph now: units the same cause reaches now but the
    recall does not cover, covered units it no longer reaches, and covered units whose status or
    holder changed (returns, transfers, new shipments)."""
    rec = get_recall(store, recall_id)
    if current is None:
        from tracegraph.engine.recall.inputs import stored_cause

        current = identify(store, stored_cause(rec.cause, rec.id)) if rec.cause else AffectedSet()  # type: ignore[arg-type]
    covered = {r["id"] for r in store.read("recall.covered_ids", id=recall_id)}
    now_ids = {s.id for s in current.serials}
    changed = store.read("recall.status_changes", id=recall_id, limit=limit)
    counts = store.read("recall.covered_counts", id=recall_id)
    return SnapshotDiff(
        recall=recall_id, covered_units=len(covered),
        now_affected_not_covered=sorted(now_ids - covered)[:limit],
        covered_not_affected_now=sorted(covered - now_ids)[:limit] if rec.cause else [],
        status_changed=changed, status_changed_total=int(sum(int(r["changed"] or 0) for r in counts)),
    )


__all__ = [
    "RecallCreate", "Recall", "RecallCustomer", "CreatedRecall", "SnapshotDiff", "TRANSITIONS", "MILESTONES",
    "JURISDICTIONS", "CLASSES", "get_recall", "list_recalls", "customers", "signatures", "create_recall",
    "create_recall_from_cause", "approve", "start", "complete", "close", "cancel", "record_milestone",
    "snapshot_diff",
]
