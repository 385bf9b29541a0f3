"""Who may change a record's `status`, and how: the lifecycle of every label, as data.

A status is the most consequential property of a GMP record (released, closed, quarantined,
destroyed...). Each one belongs to a lifecycle with its own guards, and only that lifecycle may
move it:

* `OWNED`: labels whose status is moved only by their own engine steps: a recall (approve,
  start, complete, close with e-signatures and the effectiveness check), every quality record
  type (engine/qms: complaint, deviation, CAPA, change control, document, training, calibration,
  inspection, supplier, release). The generic status command refuses them and names the steps.
* `GENERIC`: the holds a QA person may put on / take off material through the generic status
  command (`commands.set_status`, GraphQL `setStatus`, permission `records.status`): which target
  statuses, from which current ones. Every target must be a value the label's pydantic model
  (engine/model.py) allows; a test checks it. What is not listed is refused with the step that
  owns it (`REFUSED`): a batch is released only by a signed Release record whose checklist
  passes; a unit's place (shipped, returned, destroyed...) comes from shipments, EPCIS events
  and recall returns.
* A quarantine is not lifted by the generic command while an open recall covers the record
  (`lift_blocked_by_recall`): the recall's own returns / disposition steps decide.
* Imports (`check_import_changes`): an ERP bundle or EPCIS document may give the status of NEW
  records, but for records that already exist it may not release a batch, lift a quarantine, or
  move a lifecycle-owned record: the same rules, at the other door.

Engine lifecycle steps that move a status as part of their own guarded step (the Release
record's `release` marks its batch released; a document made effective supersedes the previous
version) call `commands.set_status(..., by_step=...)`/`update(..., by_step=...)`; no door
(CLI, REST, GraphQL) passes `by_step`.
"""

from __future__ import annotations

import typing
from typing import Any

from tracegraph.engine.errors import Conflict, Problem, ValidationFailed
from tracegraph.engine.stores.base import GraphStore

#: label -> the steps that own its status (shown in the refusal's hint)
OWNED: dict[str, str] = {
    "Recall": "the recall lifecycle: `tracegraph recall approve|start|complete|close|cancel` (signed approval and "
              "closure, effectiveness check)",
    "Complaint": "its quality-record steps: `tracegraph qms step complaint ID investigate|conclude|close...`",
    "Deviation": "its quality-record steps: `tracegraph qms step deviation ID assess|disposition|close`",
    "CAPA": "its quality-record steps: `tracegraph qms step capa ID plan|implemented|close`",
    "ChangeControl": "its quality-record steps: `tracegraph qms step change-control ID submit|approve|...`",
    "Document": "its quality-record steps: `tracegraph qms step document ID submit|approve|make-effective|obsolete`",
    "TrainingRecord": "its quality-record step `withdraw`",
    "Calibration": "its quality-record step `void`",
    "Inspection": "its quality-record steps `reopen` / `complete` (signed)",
    "Supplier": "the approved supplier list steps: `tracegraph qms step supplier ID qualify|conditional|disqualify` "
                "(signed)",
    "Release": "the batch release steps: `review` and `release` (two signatures, checklist must pass)",
}

#: label -> {target status: current statuses it may be reached from} through the generic command
GENERIC: dict[str, dict[str, tuple[str, ...]]] = {
    "Batch": {
        "quarantined": ("in_process", "released"),
        "in_process": ("quarantined",),  # lift a hold (not while an open recall covers the batch)
        "rejected": ("in_process", "quarantined"),
    },
    "MaterialLot": {
        "quarantined": ("available",),
        "available": ("quarantined",),
        "rejected": ("available", "quarantined"),
    },
    "Serial": {
        "quarantined": ("in_stock", "returned"),
        "in_stock": ("quarantined",),  # not while an open recall covers the unit
    },
    "Equipment": {
        "quarantined": ("active", "out_of_service"),
        "out_of_service": ("active", "quarantined"),
        "active": ("out_of_service", "quarantined"),
    },
}

#: (label, target) -> why the generic command refuses it and which step owns it
REFUSED: dict[tuple[str, str], str] = {
    ("Batch", "released"): "a batch is released only by a signed Release record whose checklist passes "
                           "(`tracegraph qms release open|review|release`)",
    ("MaterialLot", "consumed"): "consumption comes from production data (consumptions in an import)",
    ("Serial", "in_transit"): "a unit's place comes from shipments and EPCIS events (imports)",
    ("Serial", "at_distributor"): "a unit's place comes from shipments and EPCIS events (imports)",
    ("Serial", "at_end_user"): "a unit's place comes from shipments and EPCIS events (imports)",
    ("Serial", "returned"): "returns are recorded by `tracegraph recall return` (scan) or a returns import",
    ("Serial", "destroyed"): "destruction is a recall return disposition or a returns import",
    ("Serial", "consumed"): "a unit is consumed when it becomes a component (components in an import)",
    ("Equipment", "retired"): "retire the record (`retire`, with a reason) instead",
}

#: a hold that only the generic command's `lift` may end, and only with no open recall covering
HOLD = "quarantined"


def model_statuses(label: str) -> tuple[str, ...]:
    """The status values the label's pydantic model (engine/model.py) allows; () if it has none."""
    from tracegraph.engine.model import NODE_TYPES

    for cls in NODE_TYPES.values():
        if label == cls.LABEL and "status" in cls.model_fields:
            ann = cls.model_fields["status"].annotation
            out: list[str] = []
            todo = [ann]
            while todo:  # Literal[...], or Optional[Literal[...]]
                t = todo.pop(0)
                for a in typing.get_args(t):
                    (out.append(a) if isinstance(a, str) else todo.append(a))
            return tuple(out)
    return ()


def _refuse(label: str, key: str, status: str, message: str, hint: str) -> ValidationFailed:
    return ValidationFailed(message, [Problem(record=f"{label} {key}", field="status", value=status,
                                              message=message)], hint=hint)


def lift_blocked_by_recall(store: GraphStore, label: str, key: str) -> list[str]:
    """Ids of open recalls that cover the record (its quarantine stays until they decide)."""
    return [r["id"] for r in store.read("status.covering_recalls", label=label, key=key)]


def check_generic(store: GraphStore, label: str, key: str, current: dict[str, Any], status: str) -> None:
    """Refuse a generic status change that a lifecycle owns, or that the label's model or the
    GENERIC table does not allow. Raises ValidationFailed / Conflict naming the record and field."""
    if label in OWNED:
        raise _refuse(label, key, status,
                      f"the status of a {label} changes only through its lifecycle, not a generic status change",
                      hint=f"use {OWNED[label]}")
    allowed = model_statuses(label)
    if not allowed:
        raise _refuse(label, key, status, f"a {label} has no status", hint="nothing to change")
    if status not in allowed:
        raise _refuse(label, key, status, f"{status!r} is not a {label} status",
                      hint=f"{label} statuses: {', '.join(allowed)}")
    moves = GENERIC.get(label, {})
    if status not in moves:
        why = REFUSED.get((label, status)) or f"no generic step leads a {label} to {status!r}"
        raise _refuse(label, key, status, f"{label} {key!r} cannot be set to {status!r} by a generic status change",
                      hint=why)
    cur = str(current.get("status") or "")
    if cur == status:
        return
    if cur not in moves[status]:
        raise Conflict(f"{label} {key!r} is {cur or 'without status'}: a generic status change to {status!r} needs "
                       f"it to be {' or '.join(moves[status])}", hint=REFUSED.get((label, status), ""))
    if cur == HOLD:
        recalls = lift_blocked_by_recall(store, label, key)
        if recalls:
            raise Conflict(f"{label} {key!r} is quarantined under open recall(s) {', '.join(recalls)}: the quarantine "
                           "is lifted by the recall's own steps, not a generic status change",
                           hint="record the unit's return / disposition on the recall, or close it")


def check_import_changes(changed: dict[str, list[Any]]) -> None:
    """Refuse an import whose changes to EXISTING records move a status in a way only a lifecycle
    may: `changed` is {label: [change with .record.id, .before, .after]} (engine/import_plan)."""
    problems: list[Problem] = []
    for label, changes in changed.items():
        for c in changes:
            after = getattr(c, "after", {}) or {}
            if "status" not in after:
                continue
            before = (getattr(c, "before", {}) or {}).get("status")
            new = after["status"]
            if before == new:
                continue
            key = str(getattr(getattr(c, "record", None), "id", "?"))
            why = None
            if label in OWNED:
                why = f"the status of a {label} changes only through {OWNED[label]}"
            elif label == "Batch" and new == "released":
                why = REFUSED[("Batch", "released")]
            elif before == HOLD:
                why = "a quarantine is lifted only through the engine (records.status, or the recall's steps)"
            if why:
                problems.append(Problem(record=f"{label} {key}", field="status", value=new,
                                        message=f"{before} -> {new} refused: {why}"))
    if problems:
        raise ValidationFailed(
            f"the import would change the status of {len(problems)} existing record(s) outside their lifecycle",
            problems, hint="leave the status column empty for existing records; use the lifecycle steps")


#: labels whose current status `check_status_writes` can read (queries/status/current_<label>.cypher)
READABLE = ("Serial", "Batch", "MaterialLot", "Equipment")


class _Change:
    def __init__(self, key: str, before: Any, new: Any) -> None:
        self.record = type("R", (), {"id": key})()
        self.before = {"status": before}
        self.after = {"status": new}


def check_status_writes(store: GraphStore, writes: dict[str, dict[str, Any]]) -> None:
    """The same rule as `check_import_changes` for an importer that knows only the statuses it
    will SET on existing records (EPCIS): `writes` is {label: {key: new status}}."""
    changed: dict[str, list[Any]] = {}
    for label, new in writes.items():
        if not new:
            continue
        if label in OWNED:
            changed[label] = [_Change(k, None, v) for k, v in new.items()]
            continue
        if label not in READABLE:
            continue
        keys = list(new)
        for i in range(0, len(keys), 5000):
            for r in store.read(f"status.current_{label}", keys=keys[i:i + 5000]):
                changed.setdefault(label, []).append(_Change(r["id"], r["status"], new[r["id"]]))
    check_import_changes(changed)


__all__ = ["OWNED", "READABLE", "check_status_writes", "GENERIC", "REFUSED", "HOLD", "model_statuses", "check_generic", "check_import_changes",
           "lift_blocked_by_recall"]
