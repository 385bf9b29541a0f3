"""The approved supplier list: each Supplier moves qualify / conditional / disqualify (signed by
QA) with a `qualified_until`; every move appends `effective_from|status|qualified_until` to the
supplier's `history` in the same statement, so "was this supplier approved on the day the lot
arrived?" is answered from the supplier itself (suppliers without history: their current
status and qualified_until)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from tracegraph.engine.access.permissions import require
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.clock import Clock, SystemClock
from tracegraph.engine.stores.base import GraphStore

APPROVED = ("approved", "conditional")
_STEP_STATUS = {"qualify": "approved", "conditional": "conditional", "disqualify": "disqualified"}


def derive_history(store: GraphStore, rec: Any, step: str, given: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """Supplier `derive` hook: append the new status with its effective day to the history."""
    status = _STEP_STATUS.get(step)
    if status is None:
        return {}
    start = str(given.get("effective_from") or clock.now().date().isoformat())
    until = "" if status == "disqualified" else str(given.get("qualified_until") or rec.props.get("qualified_until") or "")
    out: dict[str, Any] = {"history": list(rec.props.get("history") or []) + [f"{start}|{status}|{until}"],
                           "effective_from": start}
    if status == "disqualified":
        out["qualified_until"] = None
    return out


def status_on(props: dict[str, Any], day: str) -> tuple[str | None, str | None]:
    """(status, qualified_until) of a supplier on `day` (ISO date)."""
    entries = sorted((h.split("|") for h in props.get("history") or []), key=lambda e: e[0])
    past = [e for e in entries if e[0] <= day]
    if past:
        return past[-1][1], (past[-1][2] or None)
    if entries:  # history starts after the day: not yet on the list
        return "pending", None
    return props.get("status"), props.get("qualified_until")


def approved_on(props: dict[str, Any], day: str) -> bool:
    status, until = status_on(props, day)
    return status in APPROVED and (until is None or day <= str(until)[:10])


class SupplierRow(BaseModel):
    supplier: str
    name: str | None = None
    status: str | None = None
    qualified_until: str | None = None
    days_left: int | None = None
    expiring: bool = False


def supplier_list(store: GraphStore, *, expiring_within: int | None = None, clock: Clock | None = None,
                  actor: Actor | None = None) -> list[SupplierRow]:
    """The supplier list with qualification status and expiry; with `expiring_within`, only the
    approved/conditional suppliers whose qualification ends within that many days (or has ended)."""
    if actor is not None:
        require(actor, "qms.read")
    today = (clock or SystemClock()).now().date()
    out = []
    for r in store.read("quality.suppliers"):
        p = r["props"]
        until = str(p["qualified_until"])[:10] if p.get("qualified_until") else None
        left = (date.fromisoformat(until) - today).days if until else None
        expiring = bool(p.get("status") in APPROVED and left is not None and expiring_within is not None
                        and left <= expiring_within)
        row = SupplierRow(supplier=p["id"], name=p.get("name"), status=p.get("status"), qualified_until=until,
                          days_left=left, expiring=expiring)
        if expiring_within is None or expiring:
            out.append(row)
    return out


class UnapprovedReceipt(BaseModel):
    lot: str
    supplier: str
    received: str
    supplier_status: str | None
    qualified_until: str | None
    why: str


def lots_from_unapproved_suppliers(store: GraphStore, supplier: str | None = None,
                                   actor: Actor | None = None) -> list[UnapprovedReceipt]:
    """Material lots received from a supplier that was not approved (or whose qualification had
    expired) on the receipt date."""
    if actor is not None:
        require(actor, "qms.read")
    out = []
    for r in store.read("quality.supplier_receipts", supplier=supplier):
        day = str(r["received"])[:10]
        if approved_on(r["supplier"], day):
            continue
        status, until = status_on(r["supplier"], day)
        why = (f"qualification expired {until}" if status in APPROVED else f"supplier was {status or 'not qualified'}")
        out.append(UnapprovedReceipt(lot=r["lot"], supplier=r["supplier"]["id"], received=day, supplier_status=status,
                                     qualified_until=until, why=why))
    return out


__all__ = ["derive_history", "status_on", "approved_on", "SupplierRow", "supplier_list", "UnapprovedReceipt",
           "lots_from_unapproved_suppliers"]
