"""Equipment calibration and maintenance: recording a calibration (a `Calibration` record,
linked `-[:CALIBRATES]->` the equipment), the schedule of what is due, and the batches made on
equipment whose calibration was overdue or failed. An out-of-tolerance result puts in doubt
everything made since the last good calibration: recording one returns that impact at once
(reusing `insights.out_of_tolerance_impact`)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from tracegraph.engine import commands
from tracegraph.engine.access.permissions import require
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.clock import Clock, SystemClock
from tracegraph.engine.errors import NotFound, Problem, ValidationFailed
from tracegraph.engine.qms.insights import OutOfToleranceImpact, out_of_tolerance_impact
from tracegraph.engine.qms.lifecycle import QualityRecord, open_record
from tracegraph.engine.qms.types import CALIBRATION
from tracegraph.engine.stores.base import GraphStore

BAD_RESULTS = ("fail", "out_of_tolerance")


class CalibrationOutcome(BaseModel):
    record: QualityRecord
    impact: OutOfToleranceImpact | None = None


def record_calibration(store: GraphStore, actor: Actor, equipment: str, *, on: str, result: str,
                       due_at: str | None = None, kind: str = "calibration", performed_by: str | None = None,
                       certificate: str | None = None, notes: str | None = None,
                       clock: Clock | None = None) -> CalibrationOutcome:
    """Record a calibration (or maintenance) of one equipment; a failed / out-of-tolerance result
    returns the impact over the usage window since the last good calibration."""
    if commands.get(store, "Equipment", equipment) is None:
        raise NotFound(f"equipment {equipment!r} does not exist")
    if result == "pass" and not due_at and kind == "calibration":
        raise ValidationFailed("a passed calibration needs the next due date",
                               [Problem(record=equipment, field="due_at", message="required when result is pass")])
    data = {"equipment_id": equipment, "date": on, "result": result, "due_at": due_at, "kind": kind,
            "performed_by": performed_by, "certificate": certificate, "notes": notes}
    rec = open_record(store, CALIBRATION, actor, data, about={"Equipment": [equipment]}, clock=clock)
    impact = out_of_tolerance_impact(store, equipment) if result in BAD_RESULTS and kind == "calibration" else None
    return CalibrationOutcome(record=rec, impact=impact)


class ScheduleRow(BaseModel):
    equipment: str
    name: str | None = None
    last_date: str | None = None
    last_result: str | None = None
    due_at: str | None = None
    days_left: int | None = None
    state: str  # ok, due_soon, overdue, out_of_calibration, never_calibrated


def calibration_schedule(store: GraphStore, *, due_within: int | None = None, clock: Clock | None = None,
                         actor: Actor | None = None) -> list[ScheduleRow]:
    """Every equipment with its calibration due date and state; with `due_within`, only those
    overdue, failed, never calibrated or due within that many days."""
    if actor is not None:
        require(actor, "qms.read")
    today = (clock or SystemClock()).now().date()
    out = []
    for r in store.read("quality.calibration_schedule"):
        due = str(r["due_at"])[:10] if r.get("due_at") else None
        left = (date.fromisoformat(due) - today).days if due else None
        if r.get("last_result") is None and due is None:
            state = "never_calibrated"
        elif r.get("last_result") in BAD_RESULTS:
            state = "out_of_calibration"
        elif left is not None and left < 0:
            state = "overdue"
        elif left is not None and due_within is not None and left <= due_within:
            state = "due_soon"
        else:
            state = "ok"
        row = ScheduleRow(equipment=r["equipment"], name=r.get("name"), last_date=r.get("last_date"),
                          last_result=r.get("last_result"), due_at=due, days_left=left, state=state)
        if due_within is None or state != "ok":
            out.append(row)
    return sorted(out, key=lambda x: (x.days_left if x.days_left is not None else -10**6, x.equipment))


class BatchOnOverdueEquipment(BaseModel):
    batch: str
    batch_status: str | None = None
    equipment: str
    used_from: str | None = None
    used_to: str | None = None
    calibration: str | None = None
    calibration_date: str | None = None
    calibration_result: str | None = None
    calibration_due: str | None = None
    why: str


def batches_on_overdue_equipment(store: GraphStore, equipment: str | None = None, *, status: str | None = None,
                                 actor: Actor | None = None) -> list[BatchOnOverdueEquipment]:
    """Batches made on equipment whose last calibration before the use had failed, or was due
    before the use ended, or that had no calibration at all."""
    if actor is not None:
        require(actor, "qms.read")
    out = []
    for r in store.read("quality.batches_on_equipment", equipment=equipment):
        end = str(r.get("to") or r.get("from") or "")
        why = ""
        if not r.get("cal_date"):
            why = f"no calibration before {r.get('from')}"
        elif r.get("cal_result") != "pass":
            why = f"last calibration {r['cal_date']} was {r.get('cal_result')}"
        elif r.get("cal_due") and end and str(r["cal_due"]) < end[: len(str(r["cal_due"]))]:
            why = f"calibration due {r['cal_due']} before the end of use {end}"
        if why and (status is None or r.get("batch_status") == status):
            out.append(BatchOnOverdueEquipment(
                batch=r["batch"], batch_status=r.get("batch_status"), equipment=r["equipment"], used_from=r.get("from"),
                used_to=r.get("to"), calibration=r.get("cal_id"), calibration_date=r.get("cal_date"),
                calibration_result=r.get("cal_result"), calibration_due=r.get("cal_due"), why=why))
    return out


__all__ = ["CalibrationOutcome", "record_calibration", "ScheduleRow", "calibration_schedule",
           "BatchOnOverdueEquipment", "batches_on_overdue_equipment"]
