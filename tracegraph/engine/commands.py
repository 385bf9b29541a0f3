"""Generic audited commands on keyed business records: create, update, set status, link, retire.

Every command: validate -> check the actor's permission -> ONE statement that changes the
record and appends its audit entry (engine/audit/chain.py). Rules (21 CFR 820 / Part 11 habits):
  * records are never deleted: `retire` marks them (retired, retired_at, retired_by, reason);
  * changing a GMP record (`model.GMP_LABELS`) that is in a locked status (released, closed,
    approved, ...) needs a reason; retiring always needs one;
  * system properties (id, created_*, updated_*, retired*) are set by the engine only.

Cypher cannot take a label as a parameter, so each label (and each allowed edge) has its own
query file, generated from queries/commands/templates/*.tmpl by `generate_queries()`; a test
keeps them current. Labels come from the closed enum in model.py, never from user text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tracegraph.engine.access.permissions import label_write_permission, require
from tracegraph.engine.audit import seals
from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import Conflict, ConstraintViolation, NotFound, Problem, ValidationFailed
from tracegraph.engine.model import GMP_LABELS, Label
from tracegraph.engine.stores.base import GraphStore

#: labels with their own engine modules (users, signatures, audit, imports) are not generic records
SYSTEM_LABELS = frozenset({
    Label.USER.value, Label.ROLE.value, Label.SIGNATURE.value, Label.AUDIT_ENTRY.value,
    Label.AUDIT_HEAD.value, Label.CHECKPOINT.value, Label.IMPORT_RUN.value, Label.TOKEN.value,
    # the EPCIS REST binding's own records (loaders/epcis_capture.py, epcis_subscriptions.py)
    Label.CAPTURE_JOB.value, Label.NAMED_QUERY.value, Label.SUBSCRIPTION.value, Label.DELIVERY.value,
})
RECORD_LABELS: tuple[str, ...] = tuple(lbl.value for lbl in Label if lbl.value not in SYSTEM_LABELS)

#: properties only the engine sets
SYSTEM_PROPS = frozenset({
    "id", "created_at", "created_by", "updated_at", "updated_by", "source", "retired", "retired_at",
    "retired_by", "retire_reason",
})
#: a GMP record in one of these statuses is locked: changes need a reason
LOCKED_STATUSES = frozenset({"released", "closed", "approved", "effective", "completed", "rejected", "destroyed"})

#: the edges `link` may create: (source label, edge type, target label), from docs/model.md
LINKS: tuple[tuple[str, str, str], ...] = (
    ("Supplier", "SUPPLIED", "MaterialLot"),
    ("MaterialLot", "OF", "Material"),
    ("Batch", "OF", "Product"),
    ("Serial", "OF", "Product"),
    ("MaterialLot", "CONSUMED_IN", "Batch"),
    ("Batch", "CONSUMED_IN", "Batch"),
    ("MaterialLot", "SPLIT_INTO", "MaterialLot"),
    ("MaterialLot", "MERGED_INTO", "MaterialLot"),
    ("Batch", "PRODUCED", "Serial"),
    ("Serial", "COMPONENT_OF", "Serial"),
    ("Batch", "PROCESSED_ON", "Equipment"),
    ("Batch", "SHIPPED_IN", "Shipment"),
    ("Serial", "SHIPPED_IN", "Shipment"),
    ("Shipment", "DELIVERED_TO", "Customer"),
    ("Customer", "TRANSFERRED_TO", "Customer"),
    ("Serial", "RETURNED_IN", "Return"),
    ("Batch", "RETURNED_IN", "Return"),
    ("Inspection", "INSPECTED", "MaterialLot"),
    ("Calibration", "CALIBRATES", "Equipment"),
    ("Batch", "DOCUMENTED_BY", "Document"),
    ("Product", "DOCUMENTED_BY", "Document"),
    ("Equipment", "DOCUMENTED_BY", "Document"),
    ("MaterialLot", "DOCUMENTED_BY", "Document"),
    ("Complaint", "ABOUT", "Serial"),
    ("Complaint", "ABOUT", "Batch"),
    ("CAPA", "ADDRESSES", "Deviation"),
    ("CAPA", "ADDRESSES", "Complaint"),
    ("Recall", "COVERS", "Batch"),
    ("Recall", "COVERS", "Serial"),
)
# not (Serial)-[:PACKED_IN]->(Container): packing goes through the packing file or EPCIS
# aggregation, whose containment derivation moves the unit with its container and writes the
# unit's `container_id` (engine/imports/containment.py); a bare link would leave both behind

_QUERY_DIR = Path(__file__).resolve().parent.parent / "queries" / "commands"


class RecordView(BaseModel):
    label: str
    key: str
    props: dict[str, Any]
    audit_seq: int | None = None


# ------------------------------------------------------------------------------------------
# query files
# ------------------------------------------------------------------------------------------
def _link_name(src: str, edge: str, dst: str) -> str:
    return f"{src}_{edge}_{dst}"


def generate_queries(write: bool = False) -> dict[Path, str]:
    """Render every per-label / per-edge query from its template; write them when asked.

    Returns {path: text} so a test can check the committed files are current.
    """
    tmpl = {p.stem: p.read_text(encoding="utf-8") for p in (_QUERY_DIR / "templates").glob("*.tmpl")}
    out: dict[Path, str] = {}
    for op in ("create", "update", "get", "note"):
        for label in RECORD_LABELS:
            out[_QUERY_DIR / op / f"{label}.cypher"] = tmpl[op].format(label=label)
    for src, edge, dst in LINKS:
        out[_QUERY_DIR / "link" / f"{_link_name(src, edge, dst)}.cypher"] = tmpl["link"].format(
            src=src, edge=edge, dst=dst
        )
    sig = (_QUERY_DIR.parent / "signatures" / "templates" / "sign.tmpl").read_text(encoding="utf-8")
    for label in RECORD_LABELS:
        out[_QUERY_DIR.parent / "signatures" / "sign" / f"{label}.cypher"] = sig.format(label=label)
    if write:
        for path, text in out.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return out


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def _check_label(label: str) -> str:
    if label not in RECORD_LABELS:
        raise ValidationFailed(
            f"{label!r} is not a record label commands can write",
            [Problem(record=label, field="label", value=label, message="unknown or system label")],
            hint=f"labels are: {', '.join(RECORD_LABELS)}",
        )
    return label


def _check_props(props: dict[str, Any]) -> dict[str, Any]:
    problems = [
        Problem(record="props", field=k, value=v, message="set by the engine; cannot be given")
        for k, v in props.items() if k in SYSTEM_PROPS
    ]
    for k, v in props.items():
        if not isinstance(v, (str, int, float, bool, type(None))) and not (
            isinstance(v, list) and all(isinstance(x, (str, int, float, bool)) for x in v)
        ):
            problems.append(Problem(record="props", field=k, value=repr(v)[:40],
                                    message="values must be strings, numbers, booleans or lists of them"))
    if problems:
        raise ValidationFailed("invalid record properties", problems)
    return dict(props)


def get(store: GraphStore, label: str, key: str) -> RecordView | None:
    """The record's current properties, or None."""
    rows = store.read(f"commands.get.{_check_label(label)}", key=key)
    return RecordView(label=label, key=key, props=rows[0]["props"]) if rows else None


def _must_get(store: GraphStore, label: str, key: str) -> RecordView:
    rec = get(store, label, key)
    if rec is None:
        raise NotFound(f"{label} {key!r} does not exist", hint="check the key (ids are case-sensitive)")
    return rec


def _needs_reason(label: str, current: dict[str, Any], reason: str) -> None:
    if label in GMP_LABELS and current.get("status") in LOCKED_STATUSES and not reason.strip():
        raise ValidationFailed(
            f"{label} {current.get('id')!r} is {current.get('status')}: a change needs a reason",
            [Problem(record=str(current.get("id")), field="reason", message="required for locked GMP records")],
            hint="pass reason='...' (CLI: --reason)",
        )


# ------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------
def create(
    store: GraphStore,
    label: str,
    key: str,
    props: dict[str, Any],
    actor: Actor,
    *,
    reason: str = "",
    clock: Clock | None = None,
) -> RecordView:
    """Create one record with audit entry (action `create`, every property old=None)."""
    _check_label(label)
    require(actor, label_write_permission(label))
    if not key or not isinstance(key, str):
        raise ValidationFailed("a record needs a non-empty key", [Problem(record=label, field="id", message="empty")])
    clean = _check_props(props)
    clock = clock or SystemClock()

    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        now = iso(clock.now())
        full = {**{k: v for k, v in clean.items() if v is not None}, "id": key, "created_at": now,
                "created_by": actor.id, "updated_at": now, "source": actor.id}
        changes = [Change(k, None, v) for k, v in sorted(full.items())]
        return {"props": full}, AuditSpec("create", label, key, changes, reason)

    try:
        rows = audited_write(store, f"commands.create.{label}", prepare, actor, clock=clock)
    except ConstraintViolation:
        raise Conflict(f"{label} {key!r} already exists", hint="use update, or choose another key") from None
    rec = _must_get(store, label, key)
    rec.audit_seq = rows[0]["audit_seq"]
    return rec


def _update(
    store: GraphStore,
    label: str,
    key: str,
    props: dict[str, Any],
    actor: Actor,
    *,
    action: str,
    reason: str,
    clock: Clock | None,
    always_reason: bool = False,
    allow_retired: bool = False,
) -> RecordView:
    clock = clock or SystemClock()

    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        cur = _must_get(store, label, key).props
        if cur.get("retired") and not allow_retired:
            raise Conflict(f"{label} {key!r} is retired and cannot be changed")
        if always_reason and not reason.strip():
            raise ValidationFailed(f"{action} of {label} {key!r} needs a reason",
                                   [Problem(record=key, field="reason", message="required")])
        _needs_reason(label, cur, reason)
        changed = {k: v for k, v in props.items() if cur.get(k) != v}
        now = iso(clock.now())
        full = {**changed, "updated_at": now, "updated_by": actor.id} if changed else {}
        changes = [Change(k, cur.get(k), v) for k, v in sorted(full.items())]
        return {"key": key, "props": full, "allow_retired": allow_retired}, AuditSpec(action, label, key, changes, reason)

    params, spec = prepare()  # fail fast (and skip no-op writes) before touching the chain
    if not spec.changes:
        return _must_get(store, label, key)
    rows = audited_write(store, f"commands.update.{label}", prepare, actor, clock=clock)
    rec = _must_get(store, label, key)
    rec.audit_seq = rows[0]["audit_seq"]
    return rec


def update(
    store: GraphStore,
    label: str,
    key: str,
    props: dict[str, Any],
    actor: Actor,
    *,
    reason: str = "",
    clock: Clock | None = None,
    by_step: str | None = None,
) -> RecordView:
    """Change properties (None removes one). Locked GMP records need a reason.

    A `status` in `props` follows engine/status_policy.py unless `by_step` names the engine
    lifecycle step doing it (no door passes `by_step`)."""
    _check_label(label)
    require(actor, label_write_permission(label))
    clean = _check_props(props)
    if "status" in clean:
        require(actor, "records.status")
        if by_step is None:
            _check_status_policy(store, label, key, clean["status"])
    return _update(store, label, key, clean, actor, action="update", reason=reason, clock=clock)


def set_status(
    store: GraphStore,
    label: str,
    key: str,
    status: str,
    actor: Actor,
    *,
    reason: str = "",
    clock: Clock | None = None,
    by_step: str | None = None,
) -> RecordView:
    """Move a record to another status, audited as `status`.

    Without `by_step` (every door: GraphQL `setStatus`) only the holds of
    engine/status_policy.py are possible; a lifecycle step of the engine that has already passed
    its own guards (the signed Release marks its batch released) names itself in `by_step`."""
    _check_label(label)
    require(actor, "records.status")
    if not status or not isinstance(status, str):
        raise ValidationFailed("status must be a non-empty string", [Problem(record=key, field="status", message="empty")])
    if by_step is None:
        _check_status_policy(store, label, key, status)
    return _update(store, label, key, {"status": status}, actor, action="status", reason=reason, clock=clock)


def _check_status_policy(store: GraphStore, label: str, key: str, status: Any) -> None:
    from tracegraph.engine import status_policy

    if not isinstance(status, str):
        raise ValidationFailed("status must be a string", [Problem(record=key, field="status", value=status,
                                                                   message="not a string")])
    current = {} if label in status_policy.OWNED else _must_get(store, label, key).props  # owned: refused anyway
    status_policy.check_generic(store, label, key, current, status)


def retire(
    store: GraphStore,
    label: str,
    key: str,
    actor: Actor,
    *,
    reason: str,
    clock: Clock | None = None,
) -> RecordView:
    """Retire a record instead of deleting it: it stays, marked, with who/when/why."""
    _check_label(label)
    require(actor, "records.retire")
    clock = clock or SystemClock()
    props = {"retired": True, "retired_at": iso(clock.now()), "retired_by": actor.id, "retire_reason": reason}
    return _update(store, label, key, props, actor, action="retire", reason=reason, clock=clock, always_reason=True)


def link(
    store: GraphStore,
    src_label: str,
    src_key: str,
    edge: str,
    dst_label: str,
    dst_key: str,
    actor: Actor,
    *,
    props: dict[str, Any] | None = None,
    reason: str = "",
    clock: Clock | None = None,
) -> int:
    """Create one model edge between two existing records; returns the audit seq."""
    if (src_label, edge, dst_label) not in LINKS:
        allowed = ", ".join(f"{s}-{e}->{d}" for s, e, d in LINKS if s == src_label) or "none"
        raise ValidationFailed(
            f"({src_label})-[:{edge}]->({dst_label}) is not an edge of the model",
            [Problem(record=src_key, field="edge", value=edge, message="not allowed")],
            hint=f"edges from {src_label}: {allowed}",
        )
    require(actor, label_write_permission(src_label))
    eprops = _check_props(props or {})
    clock = clock or SystemClock()

    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        for lbl, k in ((src_label, src_key), (dst_label, dst_key)):
            _must_get(store, lbl, k)
        change = Change(f"{edge}->{dst_label}:{dst_key}", None, eprops, state=False)
        triple = (src_label, edge, dst_label)
        # an edge of the traceability graph is sealed like an imported one (engine/audit/seals.py)
        seal = seals.edge_seal(triple, src_key, dst_key, eprops) if triple in seals.EDGE_FIELDS else None
        params = {"from_key": src_key, "to_key": dst_key, "props": eprops, "seal": seal}
        changes = [change] if seal is None else [change, seals.Ledger().add_all([seal]).change()]
        return params, AuditSpec("link", src_label, src_key, changes, reason)

    rows = audited_write(store, f"commands.link.{_link_name(src_label, edge, dst_label)}", prepare, actor, clock=clock)
    return int(rows[0]["audit_seq"])


def note(
    store: GraphStore,
    label: str,
    key: str,
    action: str,
    actor: Actor,
    *,
    changes: list[Change] | None = None,
    reason: str = "",
    clock: Clock | None = None,
) -> int:
    """An audit entry about a record that changes nothing in it (e.g. `signature_refused`).

    `changes` here describe an event, not properties, so they are stored with state=False.
    """
    _check_label(label)
    evts = [Change(c.field, c.old, c.new, redacted=c.redacted, state=False) for c in (changes or [])]
    rows = audited_write(
        store, f"commands.note.{label}", lambda: ({"key": key}, AuditSpec(action, label, key, evts, reason)),
        actor, clock=clock,
    )
    return int(rows[0]["audit_seq"])


__all__ = [
    "RECORD_LABELS", "SYSTEM_LABELS", "SYSTEM_PROPS", "LOCKED_STATUSES", "LINKS", "RecordView",
    "generate_queries", "get", "create", "update", "set_status", "retire", "link", "note",
]
