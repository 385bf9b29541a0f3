"""What a recall covers: the affected set, taken from an impact result and frozen at decision time.

`AffectedSet` is the small interface the recall needs from impact analysis (serial ids with their
batch, status and holder; batch-level quantities; customers with unit counts). `identify()` asks
`tracegraph.engine.trace.impact.impact` when it is installed; otherwise a simple forward trace over
lots/batches/serials (queries/recall/scope_*.cypher) gives the same shape, so recalls and drills
work on any plant.

Consignees, not only holders: 21 CFR 7.49 and the EU MDR's field safety corrective action expect
every consignee in the chain of distribution to be told, so that it checks its stock and passes
the notice on to its own customers. A distributor that received a pallet, broke it down and
shipped the cases on to hospitals holds nothing any more, yet it must be notified (with the
sub-recall instruction) and must acknowledge. `consignees()` adds, to the customers holding units
now, every customer that received affected units still in the field downstream, each with its
`role` (`holder`, `passed_on` or `both`), the units it received, holds and passed on. Both ways
of identifying (impact, fallback) go through it, so the recall's customer list is the same.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, Field

from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.stores.base import GraphStore
from tracegraph.engine.trace.models import HELD_STATUSES, ImpactCause, ImpactOptions, ImpactResult


class ScopeSerial(BaseModel):
    id: str
    batch: str | None = None
    status: str = "unknown"
    customer: str | None = None


class ScopeQuantity(BaseModel):
    """Units of a non-serialised batch held in one place."""

    batch: str
    qty: float
    status: str = "unknown"
    customer: str | None = None


#: a consignee's place in the chain of distribution: it holds affected units, it passed every unit
#: it received on to other consignees, or both
Role = Literal["holder", "passed_on", "both"]
#: separates one unit's id from its holder in `recall.scope_consignees`'s blob (never in a key)
_US = "\x1f"
_RS = "\x1e"


class ScopeCustomer(BaseModel):
    id: str
    name: str | None = None
    language: str | None = None
    units: float = Field(0, description="affected units it holds now (in transit to it, at a distributor, at an end user)")
    serial_units: float = 0
    qty_units: float = 0
    contact_email: str | None = None
    role: Role = "holder"
    units_received: float = Field(0, description="affected units shipped to it (our shipments and onward ones)")
    units_passed_on: float = Field(0, description="of those, units another consignee holds now: it passed them on")


class AffectedSet(BaseModel):
    """The units a recall decision is about. Customers count units they hold (in transit, at a
    distributor, at an end user), the units the field action must reach."""

    cause: dict[str, Any] = Field(default_factory=dict)
    serials: list[ScopeSerial] = Field(default_factory=list)
    quantities: list[ScopeQuantity] = Field(default_factory=list)
    customers: list[ScopeCustomer] = Field(default_factory=list)
    identify_ms: float = 0.0
    source: str = "impact"

    @property
    def units(self) -> float:
        return len(self.serials) + sum(q.qty for q in self.quantities)

    def batch_rows(self) -> list[dict[str, Any]]:
        """One COVERS row per batch: quantity = its serials + non-serialised quantities."""
        per: dict[str, dict[str, Any]] = {}
        for s in self.serials:
            if s.batch:
                row = per.setdefault(s.batch, {"id": s.batch, "qty": 0.0, "serialised": True})
                row["qty"] += 1.0
        for q in self.quantities:
            row = per.setdefault(q.batch, {"id": q.batch, "qty": 0.0, "serialised": False})
            row["qty"] += float(q.qty)
            row["serialised"] = False
        return sorted(per.values(), key=lambda r: r["id"])

    def customer_rows(self, default_language: str) -> list[dict[str, Any]]:
        out = []
        for c in sorted(self.customers, key=lambda c: c.id):
            out.append({
                "id": c.id, "units": float(c.units), "serial_units": float(c.serial_units),
                "qty_units": float(c.qty_units), "language": c.language or default_language,
                "channel": "email" if c.contact_email else "letter", "role": c.role,
                "units_received": float(max(c.units_received, c.units)), "units_passed_on": float(c.units_passed_on),
            })
        return out

    def digest(self) -> str:
        """SHA-256 over the sorted covered keys: electronic signatures bind to this snapshot."""
        h = hashlib.sha256()
        for sid in sorted(s.id for s in self.serials):
            h.update(sid.encode() + b"\n")
        for q in sorted(self.quantities, key=lambda q: (q.batch, q.customer or "", q.status)):
            h.update(f"{q.batch}|{q.customer}|{q.status}|{q.qty}\n".encode())
        return h.hexdigest()


def _quantities(rows: list[dict[str, Any]]) -> list[ScopeQuantity]:
    """Where non-serialised quantities are now: shipped from our site to a customer, moved on by
    customer-to-customer transfers (Shipment.from_id is a customer), the rest still in stock."""
    by_batch: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_batch[r["batch"]].append(r)
    out: list[ScopeQuantity] = []
    for bid, rs in sorted(by_batch.items()):
        customers = {r["customer"] for r in rs if r["customer"]}
        held: dict[tuple[str, str], float] = defaultdict(float)
        shipped = 0.0
        for r in sorted(rs, key=lambda r: (r["from_id"] in customers, r["delivered_at"] or "")):
            if not r["customer"]:
                continue
            qty = float(r["qty"] or 0)
            status = "in_transit" if not r["delivered_at"] else (
                "at_distributor" if r["kind"] == "distributor" else "at_end_user")
            if r["from_id"] in customers:
                for key in list(held):
                    if key[0] == r["from_id"] and held[key] > 0:
                        take = min(held[key], qty)
                        held[key] -= take
                        break
            else:
                shipped += qty
            held[(r["customer"], status)] += qty
        for (cid, status), qty in sorted(held.items()):
            if qty > 0:
                out.append(ScopeQuantity(batch=bid, qty=qty, status=status, customer=cid))
        stock = float(rs[0]["batch_qty"] or 0) - shipped
        if stock > 0:
            out.append(ScopeQuantity(batch=bid, qty=stock, status="in_stock", customer=None))
    return out


def _customers_from_units(serials: list[ScopeSerial], quantities: list[ScopeQuantity],
                          info: dict[str, dict[str, Any]]) -> list[ScopeCustomer]:
    ser: dict[str, float] = defaultdict(float)
    qty: dict[str, float] = defaultdict(float)
    for s in serials:
        if s.customer and s.status in HELD_STATUSES:
            ser[s.customer] += 1
    for q in quantities:
        if q.customer and q.status in HELD_STATUSES:
            qty[q.customer] += q.qty
    out = []
    for cid in sorted(set(ser) | set(qty)):
        i = info.get(cid, {})
        out.append(ScopeCustomer(id=cid, name=i.get("name"), language=i.get("language"),
                                 contact_email=i.get("contact_email"), units=ser[cid] + qty[cid],
                                 serial_units=ser[cid], qty_units=qty[cid]))
    return out


def _role(held: float, passed_on: float) -> Role | None:
    if held > 0:
        return "both" if passed_on > 0 else "holder"
    return "passed_on" if passed_on > 0 else None


def consignees(store: GraphStore, serials: list[ScopeSerial], quantities: list[ScopeQuantity],
               holders: list[ScopeCustomer], qty_rows: list[dict[str, Any]] | None = None) -> list[ScopeCustomer]:
    """Holders and every consignee that passed affected units on, each with its role and counts.

    A unit counts as passed on by every customer it was shipped to that is not the one holding it
    now (it is still in the field: in transit, at a distributor or an end user). Units returned or
    destroyed are out of the field: nobody needs a notice for them. Non-serialised quantities
    count what a customer received and shipped on to another customer (`Shipment.from_id`),
    `qty_rows` being their shipments (recall.scope_quantities) when the caller already read them."""
    received: dict[str, float] = defaultdict(float)
    passed: dict[str, float] = defaultdict(float)
    if serials:
        blob = _RS.join(f"{s.id}{_US}{s.customer if s.customer and s.status in HELD_STATUSES else ''}"
                        for s in serials)
        for r in store.read("recall.scope_consignees", blob=blob, rs=_RS, us=_US):
            received[r["id"]] += float(r["received"] or 0)
            passed[r["id"]] += float(r["passed_on"] or 0)
    qty_batches = sorted({q.batch for q in quantities})
    if qty_batches:
        if qty_rows is None:
            qty_rows = store.read("recall.scope_quantities", batches=qty_batches)
        held_qty: dict[str, float] = defaultdict(float)
        for q in quantities:
            if q.customer and q.status in HELD_STATUSES:
                held_qty[q.customer] += q.qty
        got: dict[str, float] = defaultdict(float)
        onward: dict[str, float] = defaultdict(float)
        for r in qty_rows:
            if r["batch"] not in qty_batches or not r["customer"]:
                continue
            qty = float(r["qty"] or 0)
            got[r["customer"]] += qty
            if r["from_id"] and r["from_id"] != r["customer"]:
                onward[r["from_id"]] += qty
        for cid, qty in got.items():
            received[cid] += qty
            # what it shipped on, at most what it received and no more than is still in the field
            passed[cid] += max(min(onward.get(cid, 0.0), qty), 0.0)
    by_id = {c.id: c for c in holders}
    missing = sorted(cid for cid in passed if passed[cid] > 0 and cid not in by_id)
    info = {r["id"]: r for r in store.read("recall.scope_customer_info", ids=missing)} if missing else {}
    out: list[ScopeCustomer] = []
    for cid in sorted(set(by_id) | set(missing)):
        c = by_id.get(cid)
        if c is None:
            i = info.get(cid, {})
            c = ScopeCustomer(id=cid, name=i.get("name"), language=i.get("language"),
                              contact_email=i.get("contact_email"))
        role = _role(c.units, passed.get(cid, 0.0))
        if role is None:
            continue
        out.append(c.model_copy(update={"role": role, "units_passed_on": passed.get(cid, 0.0),
                                        "units_received": max(received.get(cid, 0.0), c.units)}))
    return out


def from_impact(result: ImpactResult) -> AffectedSet:
    """Adapt an `ImpactResult` (tracegraph.engine.trace.impact) to the recall's affected set."""
    serials = [ScopeSerial(id=s.id, batch=s.batch, status=s.status, customer=s.customer) for s in result.serials]
    quantities = [ScopeQuantity(batch=q.batch, qty=q.qty, status=q.status, customer=q.customer)
                  for q in result.quantities]
    info = {c.id: {"name": c.name, "language": c.language, "contact_email": c.contact.email}
            for c in result.customers}
    return AffectedSet(cause=result.query, serials=serials, quantities=quantities,
                       customers=_customers_from_units(serials, quantities, info),
                       identify_ms=result.elapsed_ms, source="impact")


def _impact_fn() -> Any:
    try:
        from tracegraph.engine.trace import impact as impact_mod
    except ImportError:
        return None
    return getattr(impact_mod, "impact", None)


def identify(store: GraphStore, cause: ImpactCause, *, use_impact: bool = True) -> AffectedSet:
    """Everything the cause reached, now. Uses the impact engine when present."""
    import time

    if cause.is_empty():
        raise ValidationFailed("the recall cause is empty", hint="give --lot, --batch, --supplier, --equipment or --serial")
    t0 = time.perf_counter()
    fn = _impact_fn() if use_impact else None
    if fn is not None:
        result = fn(store, cause, ImpactOptions(include_paths=False))
        out = from_impact(result)
        out.customers = consignees(store, out.serials, out.quantities, out.customers)
        out.cause = cause.model_dump(mode="json", exclude_defaults=True)
        out.identify_ms = (time.perf_counter() - t0) * 1000
        return out
    return _identify_fallback(store, cause, t0)


def _identify_fallback(store: GraphStore, cause: ImpactCause, t0: float) -> AffectedSet:
    import time

    unsupported = [k for k in ("supplier", "equipment", "document", "serial_range") if getattr(cause, k)]
    if unsupported:
        raise ValidationFailed(
            f"identifying by {', '.join(unsupported)} needs the impact engine (tracegraph.engine.trace.impact)",
            hint="use --lot, --batch or --serial, or install a tracegraph build with impact analysis",
        )
    batch_ids = set(cause.batches)
    if cause.lots:
        batch_ids |= {r["id"] for r in store.read("recall.scope_lot_batches", lots=list(cause.lots))}
    if batch_ids:
        batch_ids |= {r["id"] for r in store.read("recall.scope_batch_closure", batches=sorted(batch_ids))}
    rows = store.read("recall.scope_serials", batches=sorted(batch_ids), serials=list(cause.serials))
    serials = [ScopeSerial(id=r["id"], batch=r["batch"], status=r["status"] or "unknown", customer=r["customer"])
               for r in rows]
    qrows = store.read("recall.scope_quantities", batches=sorted(batch_ids)) if batch_ids else []
    quantities = _quantities(qrows)
    cids = sorted({s.customer for s in serials if s.customer} | {q.customer for q in quantities if q.customer})
    info = {r["id"]: r for r in store.read("recall.scope_customer_info", ids=cids)} if cids else {}
    holders = _customers_from_units(serials, quantities, info)
    return AffectedSet(
        cause=cause.model_dump(mode="json", exclude_defaults=True), serials=serials, quantities=quantities,
        customers=consignees(store, serials, quantities, holders, qrows),
        identify_ms=(time.perf_counter() - t0) * 1000, source="recall-fallback",
    )


__all__ = ["AffectedSet", "ScopeSerial", "ScopeQuantity", "ScopeCustomer", "Role", "consignees", "from_impact",
           "identify"]
