"""Quality questions answered from the graph: open items by age and owner (dashboards), the
document version in effect at a moment, supplier scorecards, and the impact of an equipment
found out of tolerance (every unit made on it since its last good calibration)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tracegraph.engine.access.permissions import require
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import NotFound
from tracegraph.engine.stores.base import GraphStore


class OpenItem(BaseModel):
    id: str
    type: str
    status: str
    owner: str | None = None
    created_at: str | None = None
    due_date: str | None = None
    age_days: float = 0.0
    overdue: bool = False


class OpenItems(BaseModel):
    items: list[OpenItem]
    by_type: dict[str, int]
    by_owner: dict[str, int]
    by_age: dict[str, int] = Field(description="buckets: <7d, 7-30d, 30-90d, >90d")
    overdue: int
    alerts: list[Any] = Field(default_factory=list, description="CAPA alerts: overdue or due within alert_days")


def open_items(store: GraphStore, actor: Actor | None = None, *, clock: Clock | None = None,
               alert_days: int = 7) -> OpenItems:
    """Every open quality record with its age; overdue when a due date (a CAPA's due_date, a
    reportable complaint's report deadline) has passed; plus the CAPA alerts."""
    if actor is not None:
        require(actor, "qms.read")
    now = (clock or SystemClock()).now()
    items: list[OpenItem] = []
    for r in store.read("quality.open_items"):
        created = datetime.fromisoformat(r["created_at"]) if r.get("created_at") else now
        age = max(0.0, (now - created).total_seconds() / 86400)
        due = str(r.get("due_date") or "")
        overdue = bool(due and due < (iso(now) if len(due) > 10 else iso(now)[:10]))
        items.append(OpenItem(**r, age_days=round(age, 2), overdue=overdue))
    buckets = {"<7d": 0, "7-30d": 0, "30-90d": 0, ">90d": 0}
    by_type: dict[str, int] = {}
    by_owner: dict[str, int] = {}
    for it in items:
        by_type[it.type] = by_type.get(it.type, 0) + 1
        by_owner[it.owner or "?"] = by_owner.get(it.owner or "?", 0) + 1
        key = "<7d" if it.age_days < 7 else "7-30d" if it.age_days < 30 else "30-90d" if it.age_days < 90 else ">90d"
        buckets[key] += 1
    from tracegraph.engine.qms.alerts import capa_alerts

    return OpenItems(items=items, by_type=by_type, by_owner=by_owner, by_age=buckets,
                     overdue=sum(1 for i in items if i.overdue),
                     alerts=[a.model_dump() for a in capa_alerts(store, now, within_days=alert_days)])


def document_in_effect(store: GraphStore, doc_id: str, at: str) -> dict[str, Any] | None:
    """The version of `doc_id` in effect at `at` (ISO date or timestamp), or None."""
    rows = store.read("quality.document_in_effect", doc_id=doc_id, at=at)
    return rows[0]["props"] if rows else None


class SupplierScore(BaseModel):
    supplier: str
    name: str | None = None
    status: str | None = None
    qualified_until: str | None = None
    lots: int
    accepted: int
    conditional: int
    rejected: int
    deviations: int
    complaints: int
    acceptance_rate: float | None = Field(None, description="accepted / inspected lots")


def supplier_scorecard(store: GraphStore, supplier: str | None = None, actor: Actor | None = None) -> list[SupplierScore]:
    if actor is not None:
        require(actor, "qms.read")
    out = []
    for r in store.read("quality.supplier_scorecard", supplier=supplier):
        inspected = r["accepted"] + r["conditional"] + r["rejected"]
        out.append(SupplierScore(**r, acceptance_rate=round(r["accepted"] / inspected, 4) if inspected else None))
    if supplier and not out:
        raise NotFound(f"supplier {supplier!r} does not exist")
    return out


class OutOfToleranceImpact(BaseModel):
    equipment: str
    finding: dict[Any, Any]
    last_good: dict[Any, Any] | None
    window_from: str | None
    window_to: str
    impact: dict[Any, Any]


def out_of_tolerance_impact(store: GraphStore, equipment: str, actor: Actor | None = None) -> OutOfToleranceImpact:
    """An out-of-tolerance calibration puts in doubt everything made on the machine since the
    last good calibration: run the impact analysis over exactly that usage window."""
    from tracegraph.engine.trace.impact import impact
    from tracegraph.engine.trace.models import ImpactCause, ImpactOptions

    if actor is not None:
        require(actor, "impact.read")
    cals = store.read("quality.last_good_calibration", equipment=equipment)
    finding = next((c for c in cals if c["result"] in ("fail", "out_of_tolerance")), None)
    if finding is None:
        raise NotFound(f"equipment {equipment!r} has no failed or out-of-tolerance calibration",
                       hint="record the calibration result first")
    good = next((c for c in cals if c["result"] == "pass" and c["date"] < finding["date"]), None)
    cause = ImpactCause(equipment=equipment, window_from=good["date"] if good else None, window_to=finding["date"])
    result = impact(store, cause, ImpactOptions(include_paths=False, serial_limit=1000))
    return OutOfToleranceImpact(equipment=equipment, finding=finding, last_good=good,
                                window_from=good["date"] if good else None, window_to=finding["date"],
                                impact=result.model_dump())


__all__ = ["OpenItem", "OpenItems", "open_items", "document_in_effect", "SupplierScore", "supplier_scorecard",
           "OutOfToleranceImpact", "out_of_tolerance_impact"]


class ProductionRow(BaseModel):
    day: str
    line: str
    product: str
    batches: int
    units: int
    planned_qty: float
    released: int


def production_report(store: GraphStore, day_from: str, day_to: str, actor: Actor | None = None) -> list[ProductionRow]:
    """Daily production per line and product for [day_from, day_to) (ISO dates)."""
    if actor is not None:
        require(actor, "records.read")
    return [ProductionRow(**r) for r in store.read("quality.production_report", **{"from": day_from, "to": day_to})]


__all__ += ["ProductionRow", "production_report"]


class TrainingCell(BaseModel):
    user: str
    name: str | None = None
    document: str
    title: str | None = None
    trained: bool


def training_matrix(store: GraphStore, role: str | None = None, actor: Actor | None = None) -> list[TrainingCell]:
    """Who is trained on which effective document version (optionally for one role); gaps are `trained=False`."""
    if actor is not None:
        require(actor, "qms.read")
    return [TrainingCell(**r) for r in store.read("quality.training_matrix", role=role)]


class LotPosition(BaseModel):
    lot: str
    material: str | None = None
    warehouse: str
    uom: str
    received: float
    consumed: float
    moved: float
    on_hand: float


def lot_inventory(store: GraphStore, at: str, lot: str | None = None, actor: Actor | None = None) -> list[LotPosition]:
    """Stock of material lots at a moment, from receipts, consumptions and splits/merges up to then."""
    if actor is not None:
        require(actor, "records.read")
    return [LotPosition(**r) for r in store.read("quality.lot_inventory", at=at, lot=lot)]


__all__ += ["TrainingCell", "training_matrix", "LotPosition", "lot_inventory"]


class ReleasedWithRejectedLot(BaseModel):
    batch: str
    released_at: str | None = None
    lot: str
    lot_status: str | None = None
    inspection: str | None = None
    result: str | None = None
    inspection_status: str | None = None
    inspection_date: str | None = None
    after_release: bool | None = Field(None, description="the rejection/reopening is dated after the release")


def released_batches_with_rejected_lots(store: GraphStore, actor: Actor | None = None) -> list[ReleasedWithRejectedLot]:
    """Released batches (also through sub-assemblies) that used a lot whose incoming inspection was
    later rejected or reopened (or the lot itself rejected): candidates for a recall assessment."""
    if actor is not None:
        require(actor, "qms.read")
    out = []
    for r in store.read("quality.released_with_rejected_lots"):
        changed = r.pop("changed_at", None)
        after = None
        if r.get("released_at") and changed:
            after = str(changed)[:10] >= str(r["released_at"])[:10]
        out.append(ReleasedWithRejectedLot(**r, after_release=after))
    return out


__all__ += ["ReleasedWithRejectedLot", "released_batches_with_rejected_lots"]
