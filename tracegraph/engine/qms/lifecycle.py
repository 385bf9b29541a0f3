"""One lifecycle engine for every quality record type (complaint, deviation, CAPA, change
control, ...). A record type is DATA (`RecordType`): its label, id prefix, the pydantic model
of what is entered at opening, what it may concern, and its transitions (from -> to, the
permission needed, the fields that must be given, and the e-signature meaning that seals it).
Adding a record type is one module with one `RecordType`, plus `types.generate_queries(write=True)`.

Writes: opening (record + ABOUT/ADDRESSES links + audit entry) is ONE statement; a move is ONE
statement guarded by the current status (compare-and-set), so two people moving the same record
cannot both win. A signed move authenticates and checks the two-person rules first, moves,
then signs the moved record (the signature binds the content as it now is); if signing still
fails, the move is reverted by an audited compensating move.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tracegraph.engine import commands
from tracegraph.engine.access.permissions import require
from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import Conflict, NotFound, Problem, TracegraphError, ValidationFailed
from tracegraph.engine.stores.base import GraphStore

QUERY_DIR = Path(__file__).resolve().parents[2] / "queries" / "qms"

#: labels a quality record may concern (ABOUT) and address (ADDRESSES)
ABOUT_LABELS = ("Serial", "Batch", "MaterialLot", "Equipment", "Document", "Supplier")
ADDRESS_LABELS = ("Complaint", "Deviation")


class Transition(BaseModel):
    """One allowed move of a record's status."""

    model_config = ConfigDict(frozen=True)

    name: str
    from_statuses: tuple[str, ...]
    to: str
    permission: str
    required: tuple[str, ...] = ()  # fields that must be given (or already set) for this move
    signature: str | None = None  # e-signature meaning that seals the move (11.50)
    reason_required: bool = False
    help: str = ""


class RecordType(BaseModel):
    """A quality record type as data."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    label: str
    prefix: str
    title: str
    open_permission: str
    read_permission: str = "qms.read"
    initial: str = "open"
    fields: type[BaseModel]
    about: tuple[str, ...] = ()  # labels it may concern
    addresses: tuple[str, ...] = ()  # labels it may address
    transitions: tuple[Transition, ...] = ()
    closed_statuses: tuple[str, ...] = ("closed", "cancelled")
    #: guard(store, record, step): raise to refuse a step (e.g. the release checklist)
    guard: Any = None
    #: after(store, actor, record, step, clock): a follow-up write; raise to have the step undone.
    #: Also called with step="open" after opening (nothing to undo then: it raises to the caller).
    after: Any = None
    #: derive(store, record, step, given, clock) -> dict: fields computed from the step's input and
    #: written by the SAME statement as the move (e.g. a complaint's report deadline)
    derive: Any = None
    #: training_docs(store, record, signed_at) -> document version ids a signer must be trained on;
    #: a signature by someone without a TrainingRecord on them is flagged (not refused)
    training_docs: Any = None
    #: the edge from the record to what it concerns (Calibration -[:CALIBRATES]-> Equipment)
    about_rel: str = "ABOUT"

    def transition(self, name: str) -> Transition:
        for t in self.transitions:
            if t.name == name:
                return t
        raise ValidationFailed(
            f"{self.label} has no step {name!r}",
            [Problem(record=self.label, field="step", value=name, message="unknown step")],
            hint=f"steps: {', '.join(t.name for t in self.transitions)}",
        )


class QualityRecord(BaseModel):
    """A quality record as shown: its properties, what it concerns, signatures and next steps."""

    label: str
    id: str
    status: str
    props: dict[str, Any]
    concerns: list[dict[str, Any]] = Field(default_factory=list)
    addressed_by: list[dict[str, Any]] = Field(default_factory=list)
    signatures: list[dict[str, Any]] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list, description="warnings that do not block, e.g. untrained signer")
    next_steps: list[str] = Field(default_factory=list)
    audit_seq: int | None = None


# -- helpers -------------------------------------------------------------------------------
def _new_id(rt: RecordType, clock: Clock) -> str:
    return f"{rt.prefix}-{clock.now():%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"


def _validate(rt: RecordType, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    try:
        if partial:
            known = set(rt.fields.model_fields)
            unknown = [k for k in data if k not in known]
            if unknown:
                raise ValidationFailed(
                    f"{rt.label} has no field(s) {', '.join(unknown)}",
                    [Problem(record=rt.label, field=k, value=data[k], message="unknown field") for k in unknown],
                    hint=f"fields: {', '.join(sorted(known))}",
                )
            model = rt.fields.model_construct(**data)
            # validate each given field on its own so partial updates keep the type rules
            for k, v in data.items():
                rt.fields.__pydantic_validator__.validate_assignment(model, k, v)
            dumped = {k: getattr(model, k) for k in data}
        else:
            dumped = rt.fields.model_validate(data).model_dump()
    except ValidationError as exc:
        problems = [Problem(record=rt.label, field=".".join(str(x) for x in e["loc"]) or "value",
                            value=e.get("input"), message=e["msg"]) for e in exc.errors()]
        raise ValidationFailed(
            f"invalid {rt.label}: " + "; ".join(f"{p.field}: {p.message}" for p in problems), problems
        ) from None
    out: dict[str, Any] = {}
    for k, v in dumped.items():
        if isinstance(v, datetime):
            v = iso(v)
        elif hasattr(v, "isoformat"):
            v = v.isoformat()
        elif hasattr(v, "value"):  # enums
            v = v.value
        out[k] = v
    return out


def _check_refs(store: GraphStore, refs: dict[str, list[str]], allowed: tuple[str, ...], field: str) -> None:
    problems = []
    for label, keys in refs.items():
        if label not in allowed:
            problems.append(Problem(record=field, field=field, value=label, message=f"may concern only {', '.join(allowed)}"))
            continue
        for key in keys:
            if commands.get(store, label, key) is None:
                problems.append(Problem(record=field, field=f"{field}.{label}", value=key, message="no such record"))
    if problems:
        raise ValidationFailed("references that do not resolve", problems, hint="check the keys; nothing was written")


def get_record(store: GraphStore, rt: RecordType, key: str, actor: Actor | None = None) -> QualityRecord:
    if actor is not None:
        require(actor, rt.read_permission)
    rows = store.read(f"qms.get.{rt.label}", key=key)
    if not rows:
        raise NotFound(f"{rt.label} {key!r} does not exist", hint=f"list them with `tracegraph qms list {rt.label.lower()}`")
    props = rows[0]["props"]
    from tracegraph.engine.audit.signatures import signature_status

    sigs = [s.model_dump() for s in signature_status(store, rt.label, key)]
    status = str(props.get("status", ""))
    rec = QualityRecord(
        label=rt.label, id=key, status=status, props=props, concerns=rows[0]["concerns"],
        addressed_by=rows[0]["addressed_by"], signatures=sigs,
        next_steps=[t.name for t in rt.transitions if status in t.from_statuses],
    )
    if rt.training_docs is not None and sigs:
        from tracegraph.engine.qms.training_flags import flag_untrained_signers

        flag_untrained_signers(store, rt, rec)
    return rec


def list_records(store: GraphStore, rt: RecordType, actor: Actor | None = None, *, status: str | None = None,
                 after: str | None = None, limit: int = 50) -> list[QualityRecord]:
    if actor is not None:
        require(actor, rt.read_permission)
    rows = store.read(f"qms.list.{rt.label}", status=status, after=after, limit=max(1, min(limit, 1000)))
    return [QualityRecord(label=rt.label, id=r["props"]["id"], status=str(r["props"].get("status", "")),
                          props=r["props"], concerns=[{"id": c} for c in r["concerns"]]) for r in rows]


# -- commands ------------------------------------------------------------------------------
def open_record(
    store: GraphStore,
    rt: RecordType,
    actor: Actor,
    data: dict[str, Any],
    *,
    about: dict[str, list[str]] | None = None,
    addresses: dict[str, list[str]] | None = None,
    reason: str = "",
    clock: Clock | None = None,
    key: str | None = None,
) -> QualityRecord:
    """Open a record (status `rt.initial`) linked to what it concerns: one audited statement."""
    require(actor, rt.open_permission)
    clock = clock or SystemClock()
    fields = _validate(rt, data)
    about = {k: list(v) for k, v in (about or {}).items() if v}
    addresses = {k: list(v) for k, v in (addresses or {}).items() if v}
    _check_refs(store, about, rt.about, "about")
    _check_refs(store, addresses, rt.addresses, "addresses")
    if key is None and rt.label == "Document":
        key = f"{fields['doc_id']}@{fields['version']}"  # the model's key for a document version
    rec_id = key or _new_id(rt, clock)
    now = iso(clock.now())
    props = {k: v for k, v in fields.items() if v is not None}
    props.update(id=rec_id, status=rt.initial, created_at=now, created_by=actor.id, created_by_name=actor.name,
                 updated_at=now, source=actor.id)
    about_param = {lbl: about.get(lbl, []) for lbl in ABOUT_LABELS}
    addr_param = {lbl: addresses.get(lbl, []) for lbl in ADDRESS_LABELS}
    changes = [Change(k, None, v) for k, v in sorted(props.items())]
    changes += [Change(f"ABOUT->{lbl}", None, keys, state=False) for lbl, keys in sorted(about.items())]
    changes += [Change(f"ADDRESSES->{lbl}", None, keys, state=False) for lbl, keys in sorted(addresses.items())]
    try:
        rows = audited_write(
            store, f"qms.open.{rt.label}",
            lambda: ({"props": props, "about": about_param, "addresses": addr_param},
                     AuditSpec("open", rt.label, rec_id, changes, reason)),
            actor, clock=clock,
        )
    except TracegraphError as exc:
        if "already exists" in str(exc):
            raise Conflict(f"{rt.label} {rec_id!r} already exists") from None
        raise
    rec = get_record(store, rt, rec_id)
    rec.audit_seq = rows[0]["audit_seq"]
    if rt.after is not None:
        rt.after(store, actor, rec, "open", clock)
        seq = rec.audit_seq
        rec = get_record(store, rt, rec_id)
        rec.audit_seq = seq
    return rec


def move(
    store: GraphStore,
    rt: RecordType,
    actor: Actor,
    key: str,
    step: str,
    *,
    fields: dict[str, Any] | None = None,
    reason: str = "",
    password: str | None = None,
    username: str | None = None,
    clock: Clock | None = None,
) -> QualityRecord:
    """Take one lifecycle step, with the fields it requires and, if it is signed, the signature."""
    t = rt.transition(step)
    require(actor, t.permission)
    clock = clock or SystemClock()
    given = _validate(rt, fields or {}, partial=True) if fields else {}
    current = get_record(store, rt, key)
    if current.status not in t.from_statuses:
        raise Conflict(
            f"{rt.label} {key!r} is {current.status!r}: step {step!r} needs status {' or '.join(t.from_statuses)}",
            hint=f"possible steps now: {', '.join(current.next_steps) or 'none (closed)'}",
        )
    missing = [f for f in t.required if given.get(f) in (None, "", []) and current.props.get(f) in (None, "", [])]
    if missing:
        raise ValidationFailed(
            f"step {step!r} of {rt.label} {key!r} needs {', '.join(missing)}",
            [Problem(record=key, field=f, message="required for this step") for f in missing],
        )
    if t.reason_required and not reason.strip():
        raise ValidationFailed(f"step {step!r} needs a reason", [Problem(record=key, field="reason", message="required")])
    if rt.guard is not None:
        rt.guard(store, current, step)
    if rt.derive is not None:
        given = {**given, **(rt.derive(store, current, step, given, clock) or {})}
    if t.signature:
        _pre_sign_checks(store, rt, actor, key, t.signature, password, current.props)
    rec = _apply_move(store, rt, actor, key, t.from_statuses, t.to, given, step, reason, clock)
    if t.signature:
        from tracegraph.engine.audit.signatures import sign

        try:
            sign(store, rt.label, key, t.signature, actor, password or "", reason=reason or step,
                 username=username, clock=clock)
        except TracegraphError:
            _apply_move(store, rt, Actor.system("tracegraph compensation"), key, (t.to,), current.status,
                        {}, f"{step}_reverted", "the signature was refused, so the step was undone", clock)
            raise
        rec = get_record(store, rt, key)
    if rt.after is not None:
        try:
            rt.after(store, actor, rec, step, clock)
        except TracegraphError as exc:
            _apply_move(store, rt, Actor.system("tracegraph compensation"), key, (t.to,), current.status,
                        {}, f"{step}_reverted", f"the follow-up write failed: {exc}", clock)
            raise Conflict(f"{rt.label} {key!r}: step {step!r} was undone because its follow-up failed: {exc}") from None
        rec = get_record(store, rt, key)
    return rec


def _pre_sign_checks(store: GraphStore, rt: RecordType, actor: Actor, key: str, meaning: str,
                     password: str | None, props: dict[str, Any]) -> None:
    """Refuse a signed step BEFORE moving: missing or wrong password, or a two-person rule
    violation (refused and audited exactly as `signatures.sign` does)."""
    from tracegraph.engine.access.auth import authenticate
    from tracegraph.engine.access.permissions import sign_permission
    from tracegraph.engine.audit.signatures import refuse_two_person_violation
    from tracegraph.engine.errors import AuthenticationFailed

    require(actor, sign_permission(rt.label, meaning))
    if not password:
        raise AuthenticationFailed(f"this step is signed ({meaning}): re-enter your password (21 CFR 11.200)")
    authenticate(store, actor.id, password, session=actor.session)  # wrong password: refused before moving
    refuse_two_person_violation(store, rt.label, key, meaning, actor, props)


def _apply_move(store: GraphStore, rt: RecordType, actor: Actor, key: str, from_statuses: tuple[str, ...], to: str,
                given: dict[str, Any], action: str, reason: str, clock: Clock) -> QualityRecord:
    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        cur = get_record(store, rt, key).props
        now = iso(clock.now())
        props = {**given, "status": to, "updated_at": now, "updated_by": actor.id,
                 f"{to}_at": now, f"{to}_by": actor.id}
        changes = [Change(k, cur.get(k), v) for k, v in sorted(props.items()) if cur.get(k) != v]
        return ({"key": key, "props": props, "from_statuses": list(from_statuses)},
                AuditSpec(action, rt.label, key, changes, reason))

    try:
        rows = audited_write(store, f"qms.move.{rt.label}", prepare, actor, clock=clock)
    except NotFound:
        raise Conflict(f"{rt.label} {key!r} changed status while you worked on it", hint="reload and retry") from None
    rec = get_record(store, rt, key)
    rec.audit_seq = rows[0]["audit_seq"]
    return rec


__all__ = ["Transition", "RecordType", "QualityRecord", "get_record", "list_records",
           "open_record", "move", "ABOUT_LABELS", "ADDRESS_LABELS"]
