"""Returns, reconciliation, quarantine and the shipping check of a recall.

Each customer's reconciliation lives on its AFFECTS edge: units expected (held at decision) and
units accounted for by disposition. Scanned serials are accounted once (their COVERS edge
carries the disposition); quantities count for non-serialised stock or units the customer
declares without scanning. Outside a drill, returned/destroyed serials change status and a
Return record is created, so trace "as of" answers stay right.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from tracegraph.engine.audit import seals
from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import Conflict, NotFound, Problem, ValidationFailed
from tracegraph.engine.recall.records import customers, get_recall
from tracegraph.engine.recall.signing import require_recall
from tracegraph.engine.stores.base import GraphStore

Disposition = Literal["returned", "destroyed", "corrected", "consumed", "not_found"]
DISPOSITIONS: tuple[str, ...] = ("returned", "destroyed", "corrected", "consumed", "not_found")
#: serial status after a disposition (None: unchanged, the unit stays where it is)
NEW_STATUS: dict[str, str | None] = {"returned": "returned", "destroyed": "destroyed", "corrected": None,
                                     "consumed": "consumed", "not_found": None}


class ReturnResult(BaseModel):
    recall: str
    customer: str
    disposition: str
    serials: list[str] = Field(default_factory=list)
    qty: float = 0
    return_id: str | None = None
    audit_seq: int = 0


class CustomerReconciliation(BaseModel):
    customer: str
    name: str | None = None
    expected: float
    returned: float = 0
    destroyed: float = 0
    corrected: float = 0
    consumed: float = 0
    not_found: float = 0
    accounted: float = 0
    unaccounted: float = 0
    pct: float = 0
    stock_count: float | None = None
    acknowledged: bool = False
    role: str = Field("holder", description="holder, passed_on or both (recall.records.RecallCustomer.role)")
    units_passed_on: float = 0


class Reconciliation(BaseModel):
    recall: str
    accounted_dispositions: list[str]
    customers: list[CustomerReconciliation]
    expected: float
    accounted: float
    unaccounted: float
    not_found: float
    pct: float
    in_house_units: int = 0
    quarantined_units: int = 0


def _resolve(store: GraphStore, text: str) -> str:
    """A scanned UDI / GS1 string or a plain serial key -> the Serial id."""
    try:
        from tracegraph.engine.trace.scan import resolve_identifier
    except ImportError:
        return text.strip()
    try:
        res = resolve_identifier(store, text)
    except (NotFound, ValidationFailed):
        return text.strip()
    warnings = getattr(res, "warnings", None)
    if warnings:  # the label in hand is not the unit on record: never credit it silently
        raise ValidationFailed(f"scan {text!r} contradicts the database: {'; '.join(warnings)}",
                               [Problem(record="scan", field="scans", message=w, value=text) for w in warnings],
                               hint="check the label; scan the unit's own code or enter its serial key")
    for attr in ("serial_id", "id", "key"):
        val = getattr(res, attr, None) if not isinstance(res, dict) else res.get(attr)
        if isinstance(val, str) and val:
            return val
    return text.strip()


def record_returns(
    store: GraphStore,
    actor: Actor,
    recall_id: str,
    customer_id: str,
    disposition: Disposition,
    *,
    scans: list[str] | None = None,
    qty: float = 0,
    note: str = "",
    transfer: bool = False,
    clock: Clock | None = None,
) -> ReturnResult:
    """Account for units of one customer: scanned serials (UDI strings or keys) and/or a quantity.

    Refused: a scanned unit another customer held at the decision (unless `transfer`: the operator
    confirms it was passed on to this customer), and more units than the customer can account for
    (what it held at the decision, plus units confirmed as transfers, minus what is already
    accounted): 50 destroyed where 18 were expected is a typing error, not a result."""
    from tracegraph.engine.inputs import build
    from tracegraph.engine.recall.inputs import ReturnInput

    inp = build(ReturnInput, {"disposition": disposition, "scans": list(scans or []), "qty": qty, "note": note,
                              "transfer": transfer}, "return", record=f"customer {customer_id}")
    disposition, qty, note = inp.disposition, float(inp.qty), inp.note
    scans = inp.scans
    clock = clock or SystemClock()
    require_recall(actor, "recall.execute")
    rec = get_recall(store, recall_id)
    if rec.status not in ("in_progress", "effectiveness_check"):
        raise Conflict(f"recall {rec.id} is {rec.status}; returns are recorded while it is in progress",
                       hint=f"start it with `tracegraph recall start {rec.id}`")
    cust = next((c for c in customers(store, recall_id) if c.id == customer_id), None)
    if cust is None:
        raise NotFound(f"customer {customer_id!r} is not affected by recall {recall_id}",
                       hint=f"see `tracegraph recall show {recall_id}` for its customers")
    serial_ids = [_resolve(store, s) for s in (scans or []) if s.strip()]
    if len(set(serial_ids)) != len(serial_ids):
        raise ValidationFailed("the same unit was scanned twice in one return")
    if serial_ids:
        units = {u["id"]: u for u in store.read("recall.covered_by_ids", id=recall_id, ids=serial_ids)}
        problems = []
        others: list[str] = []
        holders: dict[str, int] = {}  # former holder -> units of it returned here (confirmed transfers)
        from_stock = 0
        for sid in serial_ids:
            u = units.get(sid)
            if u is None:
                problems.append(f"{sid}: not covered by {recall_id}")
            elif u["disposition"]:
                problems.append(f"{sid}: already accounted as {u['disposition']}")
            elif u["customer_at_decision"] != customer_id:
                held = u["customer_at_decision"]
                others.append(f"{sid}: held by {held or 'our own stock'} at the decision, not by {customer_id}")
                if held:
                    holders[held] = holders.get(held, 0) + 1
                else:
                    from_stock += 1
        if problems:
            raise ValidationFailed("; ".join(problems[:20]), hint="scan only covered units, once each")
        if others and not inp.transfer:
            raise ValidationFailed(
                "; ".join(others[:20]), [Problem(record=f"customer {customer_id}", field="scans", message=m)
                                         for m in others[:200]],
                hint="check the customer; if the units were passed on to this customer, confirm it as a transfer "
                     "(--transfer, or transfer: true)")
    else:
        holders, from_stock = {}, 0
    if not serial_ids and qty == 0:
        raise ValidationFailed("nothing to record", hint="scan units or give a quantity")
    credited = sum(holders.values())
    total = float(len(serial_ids)) + float(qty)  # what this return accounts for in all
    own = total - credited  # counted on this customer (its units, units from our stock, the quantity)
    already = sum(float(getattr(cust, d) or 0) for d in DISPOSITIONS)
    room = float(cust.units) + from_stock + float(getattr(cust, "transferred_in", 0) or 0) - already
    if own > room + 1e-9:
        raise ValidationFailed(
            f"{own:g} unit(s) {disposition} for {customer_id}, but it can account for only {max(room, 0):g} more "
            f"({cust.units:g} held at the decision, {already:g} already accounted)",
            [Problem(record=f"customer {customer_id}", field="qty" if qty else "scans",
                     message=f"at most {max(room, 0):g} more unit(s)", value=own)],
            hint="check the count; units passed on from another customer are scanned with --transfer")
    credits = [{"customer": h, "n": float(n), "add": {d: (float(n) if d == disposition else 0.0) for d in DISPOSITIONS}}
               for h, n in sorted(holders.items())]
    transferred = credited + from_stock
    total = own
    add = {d: (total if d == disposition else 0.0) for d in DISPOSITIONS}
    now = iso(clock.now())
    new_status = None if rec.drill else NEW_STATUS[disposition]
    return_node = None
    return_id = None
    if not rec.drill and disposition in ("returned", "destroyed") and serial_ids:
        return_id = f"RET-{rec.id}-{uuid.uuid4().hex[:8].upper()}"
        return_node = {"id": return_id, "date": now[:10], "customer_id": customer_id,
                       "reason": f"recall {rec.id}", "disposition": disposition, "recall_id": rec.id,
                       "created_at": now, "updated_at": now, "source": actor.id}
    params = {"id": rec.id, "customer": customer_id, "add": add, "now": now, "serials": serial_ids,
              "disposition": disposition, "actor_id": actor.id, "new_status": new_status,
              "return_node": return_node, "credits": credits, "transferred_in": float(from_stock)}
    spec = AuditSpec(
        action=f"recall.return.{disposition}", target_label="Recall", target_key=rec.id,
        changes=[Change(f"customer.{customer_id}.{disposition}", None,
                        {"serials": serial_ids[:1000], "serial_count": len(serial_ids), "qty": qty,
                         "return_id": return_id, "transferred_in": transferred,
                         "credited_to_former_holders": {c["customer"]: c["n"] for c in credits}}, state=False)],
        reason=note,
    )

    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        # the units' new state, the Return record and its RETURNED_IN edges, sealed in this statement
        led = seals.Ledger()
        unit_seals: dict[str, str] = {}
        edge_seals: dict[str, str] = {}
        if new_status is not None:
            unit_seals = seals.reseal(store, "Serial", {s: {"status": new_status, "customer_id": None}
                                                        for s in serial_ids}, led)
        ret_seal = None
        if return_node is not None and return_id is not None:
            ret_seal = seals.node_seal("Return", return_node)
            led.add(ret_seal)
            for s in unit_seals:
                edge_seals[s] = seals.edge_seal(("Serial", "RETURNED_IN", "Return"), s, return_id, {"qty": 1.0})
                led.add(edge_seals[s])
        p = {**params, "unit_seals": unit_seals, "edge_seals": edge_seals, "return_seal": ret_seal}
        return p, AuditSpec(action=spec.action, target_label=spec.target_label, target_key=spec.target_key,
                            changes=seals.with_ledger(list(spec.changes), led), reason=spec.reason)

    rows = audited_write(store, "recall.returns", prepare, actor, clock=clock)
    return ReturnResult(recall=rec.id, customer=customer_id, disposition=disposition, serials=serial_ids,
                        qty=qty, return_id=return_id, audit_seq=int(rows[0]["audit_seq"]))


def reconcile(store: GraphStore, recall_id: str) -> Reconciliation:
    """Expected vs accounted per customer and overall, with the jurisdiction's accounted set."""
    from tracegraph.engine.recall.rules import ruleset

    rec = get_recall(store, recall_id)
    accounted_set = ruleset(rec.jurisdiction).effectiveness.accounted
    rows = []
    for c in customers(store, recall_id):
        acc = sum(float(getattr(c, d)) for d in accounted_set if d in DISPOSITIONS)
        expected = float(c.units)
        acked = bool(c.acknowledged_at)
        # a consignee that passed every unit on has nothing to account for but its acknowledgement
        # (that it checked its stock and passed the notice on): done only once it acknowledged
        empty_pct = 100.0 if acked or c.role == "holder" else 0.0
        rows.append(CustomerReconciliation(
            customer=c.id, name=c.name, expected=expected, returned=c.returned, destroyed=c.destroyed,
            corrected=c.corrected, consumed=c.consumed, not_found=c.not_found, accounted=min(acc, expected),
            unaccounted=max(expected - acc, 0.0), pct=(100.0 * min(acc, expected) / expected) if expected else empty_pct,
            stock_count=c.stock_count, acknowledged=acked, role=c.role, units_passed_on=c.units_passed_on,
        ))
    exp = sum(r.expected for r in rows)
    acc = sum(r.accounted for r in rows)
    counts = {r["status"]: int(r["units"]) for r in store.read("recall.covered_counts", id=recall_id)}
    return Reconciliation(
        recall=recall_id, accounted_dispositions=accounted_set, customers=rows, expected=exp, accounted=acc,
        unaccounted=exp - acc, not_found=sum(r.not_found for r in rows),
        pct=(100.0 * acc / exp) if exp else 100.0,
        in_house_units=counts.get("in_stock", 0) + counts.get("quarantined", 0),
        quarantined_units=rec.quarantined_serials,
    )


def quarantine(store: GraphStore, actor: Actor, recall_id: str, *, clock: Clock | None = None) -> dict[str, Any]:
    """Quarantine covered units and batches still in our stock (never in a drill)."""
    clock = clock or SystemClock()
    require_recall(actor, "recall.execute")
    rec = get_recall(store, recall_id)
    if rec.drill:
        return {"recall": rec.id, "drill": True, "quarantined_serials": 0, "quarantined_batches": 0,
                "note": "drill: real statuses are never changed"}
    if rec.status in ("closed", "cancelled", "draft"):
        raise Conflict(f"recall {rec.id} is {rec.status}; quarantine applies to an approved or running recall")
    now = iso(clock.now())
    lots = suspect_lots(store, rec.cause)
    spec = AuditSpec(action="recall.quarantine", target_label="Recall", target_key=rec.id,
                     changes=[Change("quarantined_at", None, now, state=False),
                              Change("suspect_lots", None, lots[:1000], state=False)],
                     reason="covered stock and suspect material lots quarantined so they cannot ship or be used")

    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        # the records it will quarantine, resealed with their new status (read after the audit head,
        # so the compare-and-set proves the selection is still current when the statement runs)
        t = store.read("recall.quarantine_targets", id=rec.id, lots=lots)[0]
        led = seals.Ledger()
        new = {k: seals.reseal(store, label, {i: {"status": "quarantined"} for i in t[k]}, led)
               for k, label in (("serials", "Serial"), ("batches", "Batch"), ("lots", "MaterialLot"))}
        return ({"id": rec.id, "now": now, "lots": lots, "seals": new},
                AuditSpec(action=spec.action, target_label=spec.target_label, target_key=spec.target_key,
                          changes=seals.with_ledger(list(spec.changes), led), reason=spec.reason))

    audited_write(store, "recall.quarantine", prepare, actor, clock=clock)
    after = get_recall(store, recall_id)
    return {"recall": rec.id, "drill": False,
            "quarantined_serials": after.quarantined_serials - rec.quarantined_serials,
            "quarantined_batches": after.quarantined_batches - rec.quarantined_batches,
            "quarantined_lots": [x for x in after.quarantined_lots if x not in set(rec.quarantined_lots)]}


def suspect_lots(store: GraphStore, cause: dict[str, Any]) -> list[str]:
    """The material lots a recall's cause names or reaches (split/merged lots included): their
    remaining stock is as suspect as the units made from it."""
    from tracegraph.engine.recall.inputs import stored_cause
    from tracegraph.engine.trace.impact import impact
    from tracegraph.engine.trace.models import ImpactOptions

    if not cause:
        return []
    try:
        parsed = stored_cause(cause, "")
    except ValidationFailed:  # an old, unreadable window: still quarantine the lots it names
        return sorted({str(x) for x in cause.get("lots") or []})
    result = impact(store, parsed, ImpactOptions(include_paths=False, serial_limit=0))  # type: ignore[arg-type]
    return sorted({lot.id for lot in result.lots})


class ShipmentBlocked(Conflict):
    code = "shipment_blocked"


def blocked_units(store: GraphStore, serial_ids: list[str], batch_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Units/batches that may not ship (quarantined or covered by an active real recall)."""
    return store.read("recall.can_ship", serials=list(serial_ids), batches=list(batch_ids or []))


def assert_can_ship(store: GraphStore, serial_ids: list[str], batch_ids: list[str] | None = None) -> None:
    """The check shipment loaders call before recording a shipment: raises ShipmentBlocked."""
    bad = blocked_units(store, serial_ids, batch_ids)
    if bad:
        shown = ", ".join(f"{b['label']} {b['id']} ({b['status']}"
                          + (f", recall {'/'.join(b['recalls'])}" if b["recalls"] else "") + ")" for b in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise ShipmentBlocked(
            f"{len(bad)} unit(s) may not ship: {shown}{more}",
            hint="they are quarantined or under recall; remove them from the shipment",
        )


__all__ = [
    "DISPOSITIONS", "ReturnResult", "CustomerReconciliation", "Reconciliation", "record_returns", "reconcile",
    "quarantine", "assert_can_ship", "blocked_units", "ShipmentBlocked",
]
