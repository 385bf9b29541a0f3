"""Batch release: a checklist that says, condition by condition, why a batch may or may not be
released, and a Release record whose review and release are signed by two different people.

Conditions (each can fail alone; tests/test_release.py fails each one in turn):
  inspections   every material lot consumed by the batch passed incoming inspection
  deviations    every deviation about the batch or its lots is dispositioned or closed
  calibration   every machine the batch ran on was in calibration for the whole usage window
  training      every operator was trained on the batch's documents in effect at its start
  batch_status  the batch is not released, rejected or quarantined already
The two signatures are the two-person rule in engine/audit/signatures.py (Release: released is
signed by someone other than the reviewer).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tracegraph.engine import commands
from tracegraph.engine.access.permissions import require
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.clock import Clock
from tracegraph.engine.errors import NotFound, Problem, ValidationFailed
from tracegraph.engine.qms.lifecycle import QualityRecord, RecordType, move, open_record
from tracegraph.engine.qms.lifecycle import Transition as T
from tracegraph.engine.qms.training_flags import release_docs
from tracegraph.engine.stores.base import GraphStore

PASSING_INSPECTION = {"accept", "conditional"}
CLOSED_DEVIATION = {"dispositioned", "closed", "cancelled"}
PASSING_CALIBRATION = {"pass"}
UNRELEASABLE = {"released", "rejected", "quarantined"}


class ReleaseFields(BaseModel):
    model_config = {"extra": "forbid"}
    batch_id: str = Field(min_length=1)
    notes: str | None = None


def _guard(store: GraphStore, rec: QualityRecord, step: str) -> None:
    if step in ("review", "release"):
        _require_releasable(store, rec.props["batch_id"])


def _after(store: GraphStore, actor: Actor, rec: QualityRecord, step: str, clock: Clock) -> None:
    if step == "release":
        commands.set_status(store, "Batch", rec.props["batch_id"], "released", actor,
                            reason=f"released by {rec.id}", clock=clock, by_step=f"release {rec.id}")


RELEASE = RecordType(
    label="Release", prefix="REL", title="batch release", open_permission="qms.write", fields=ReleaseFields,
    about=("Batch",), guard=_guard, after=_after, training_docs=release_docs,
    transitions=(
        T(name="review", from_statuses=("open",), to="reviewed", permission="qms.sign", signature="reviewed",
          help="the record review, signed; the checklist must pass"),
        T(name="release", from_statuses=("reviewed",), to="released", permission="qms.approve", signature="released",
          help="QA release, signed by someone other than the reviewer; the batch becomes released"),
        T(name="reject", from_statuses=("open", "reviewed"), to="rejected", permission="qms.approve",
          reason_required=True),
    ),
)


class Condition(BaseModel):
    name: str
    ok: bool
    why: str
    details: list[str] = Field(default_factory=list)


class ReleaseChecklist(BaseModel):
    batch: str
    releasable: bool
    conditions: list[Condition]


def release_checklist(store: GraphStore, batch_id: str, actor: Actor | None = None) -> ReleaseChecklist:
    if actor is not None:
        require(actor, "qms.read")
    rows = store.read("release.checklist", batch=batch_id)
    if not rows:
        raise NotFound(f"batch {batch_id!r} does not exist")
    r = rows[0]
    conds = [_inspections(r["lots"]), _deviations(r["deviations"]), _calibration(r["usage"]),
             _training(r["usage"], r["documents"], r["trained"]), _status(r["status"])]
    return ReleaseChecklist(batch=batch_id, releasable=all(c.ok for c in conds), conditions=conds)


def _inspections(lots: list[dict[str, Any]]) -> Condition:
    bad = []
    for lot in lots:
        results = set(lot["results"])
        if not results:
            bad.append(f"{lot['lot']}: no incoming inspection")
        elif "reject" in results or "reopened" in results or not results & PASSING_INSPECTION:
            bad.append(f"{lot['lot']}: inspection {', '.join(sorted(results))}")
    if bad:
        return Condition(name="inspections", ok=False, why=f"{len(bad)} of {len(lots)} lots not accepted", details=bad)
    return Condition(name="inspections", ok=True, why=f"all {len(lots)} consumed lots passed incoming inspection")


def _deviations(devs: list[dict[str, Any]]) -> Condition:
    open_ = [f"{d['id']} ({d['status']}) about {d['about']}" for d in devs if d["status"] not in CLOSED_DEVIATION]
    if open_:
        return Condition(name="deviations", ok=False, why=f"{len(open_)} deviation(s) still open", details=open_)
    return Condition(name="deviations", ok=True, why=f"{len(devs)} deviation(s), all dispositioned or closed")


def _calibration(usage: list[dict[str, Any]]) -> Condition:
    bad = []
    for u in usage:
        end = u.get("to") or u.get("from") or ""
        if not u.get("cal_date"):
            bad.append(f"{u['equipment']}: no calibration before {u.get('from')}")
        elif u.get("cal_result") not in PASSING_CALIBRATION:
            bad.append(f"{u['equipment']}: last calibration {u['cal_date']} was {u.get('cal_result')}")
        elif u.get("cal_due") and end and str(u["cal_due"]) < str(end)[: len(str(u["cal_due"]))]:
            bad.append(f"{u['equipment']}: calibration due {u['cal_due']} before the end of use {end}")
    if bad:
        return Condition(name="calibration", ok=False, why=f"{len(bad)} machine use(s) out of calibration", details=bad)
    return Condition(name="calibration", ok=True, why=f"{len(usage)} machine use(s), all in calibration")


def _training(usage: list[dict[str, Any]], documents: list[str], trained: list[list[str]]) -> Condition:
    operators = sorted({u["operator"] for u in usage if u.get("operator")})
    if not operators or not documents:
        return Condition(name="training", ok=True,
                         why="no operators or no controlled documents recorded for this batch: nothing to check")
    have = {(t[0], t[1]) for t in trained if t and t[0]}
    missing = [f"{op} not trained on {doc}" for op in operators for doc in documents if (op, doc) not in have]
    if missing:
        return Condition(name="training", ok=False, why=f"{len(missing)} missing training record(s)", details=missing)
    return Condition(name="training", ok=True,
                     why=f"{len(operators)} operator(s) trained on {len(documents)} document version(s) in effect")


def _status(status: str | None) -> Condition:
    if status in UNRELEASABLE:
        return Condition(name="batch_status", ok=False, why=f"the batch is {status}")
    return Condition(name="batch_status", ok=True, why=f"the batch is {status or 'in process'}")


def open_release(store: GraphStore, actor: Actor, batch_id: str, *, notes: str | None = None,
                 clock: Clock | None = None) -> QualityRecord:
    if commands.get(store, "Batch", batch_id) is None:
        raise NotFound(f"batch {batch_id!r} does not exist")
    return open_record(store, RELEASE, actor, {"batch_id": batch_id, "notes": notes}, about={"Batch": [batch_id]},
                       clock=clock, key=f"REL-{batch_id}")


def _require_releasable(store: GraphStore, batch_id: str) -> ReleaseChecklist:
    cl = release_checklist(store, batch_id)
    if not cl.releasable:
        failing = [c for c in cl.conditions if not c.ok]
        raise ValidationFailed(
            f"batch {batch_id!r} cannot be released: " + "; ".join(f"{c.name}: {c.why}" for c in failing),
            [Problem(record=batch_id, field=c.name, message="; ".join(c.details) or c.why) for c in failing],
            hint="see `tracegraph qms checklist BATCH`",
        )
    return cl


def review(store: GraphStore, actor: Actor, release_id: str, *, password: str, username: str | None = None,
           clock: Clock | None = None) -> QualityRecord:
    """The signed record review; refused while the checklist fails."""
    return move(store, RELEASE, actor, release_id, "review", password=password, username=username, clock=clock)


def release(store: GraphStore, actor: Actor, release_id: str, *, password: str, username: str | None = None,
            clock: Clock | None = None) -> QualityRecord:
    """The signed QA release; then the batch is marked released (undone if that write fails)."""
    return move(store, RELEASE, actor, release_id, "release", password=password, username=username, clock=clock)


__all__ = ["RELEASE", "Condition", "ReleaseChecklist", "release_checklist", "open_release", "review", "release"]
