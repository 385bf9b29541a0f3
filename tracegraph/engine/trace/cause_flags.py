"""Flags (CLI options, REST query parameters) to the one `ImpactCause`, the same way for `impact`,
`recall create`, `recall drill` and `GET /impact`.

Why this exists: `--from/--to` used to mean the receipt window in `impact` and the equipment
window in `recall create`, so the same flags gave a recall of 6,967 units where impact said 770.
Windows are now named by what they bound: `--received-from/--received-to` (a supplier's goods
receipts) and `--used-from/--used-to` (an equipment's usage). `--from/--to` stay accepted only
where they cannot be misread: with exactly one of `--supplier` / `--equipment`, and not together
with the named flags. Anything else is refused naming the flags to use.
"""

from __future__ import annotations

from typing import Any

from tracegraph.engine.inputs import build, refuse
from tracegraph.engine.trace.models import ImpactCause

#: door-specific names of the window flags (CLI option / REST query parameter)
CLI_NAMES = {"from": "--from", "to": "--to", "received_from": "--received-from", "received_to": "--received-to",
             "used_from": "--used-from", "used_to": "--used-to"}
REST_NAMES = {"from": "from", "to": "to", "received_from": "received_from", "received_to": "received_to",
              "used_from": "used_from", "used_to": "used_to"}


def cause_from_flags(
    *, lots: list[str] | None = None, batches: list[str] | None = None, serials: list[str] | None = None,
    supplier: str | None = None, equipment: str | None = None, document: str | None = None,
    serial_range: str | None = None, received_from: str | None = None, received_to: str | None = None,
    used_from: str | None = None, used_to: str | None = None, date_from: str | None = None,
    date_to: str | None = None, names: dict[str, str] | None = None, record: str = "command line",
    require: bool = True,
) -> ImpactCause:
    """The cause the flags describe, or a ValidationFailed naming the flag that is wrong."""
    n = names or CLI_NAMES
    generic = date_from is not None or date_to is not None
    if generic:
        which = n["from"] if date_from is not None else n["to"]
        if supplier and equipment:
            raise refuse(which, f"{n['from']}/{n['to']} is ambiguous with both a supplier and equipment",
                         hint=f"name the windows: {n['received_from']}/{n['received_to']} for the supplier's "
                              f"receipts, {n['used_from']}/{n['used_to']} for the equipment's usage",
                         value=date_from if date_from is not None else date_to, record=record)
        if not supplier and not equipment:
            raise refuse(which, f"{n['from']}/{n['to']} need --supplier (receipt window) or --equipment "
                                "(usage window)",
                         hint=f"use {n['received_from']}/{n['received_to']} with a supplier or "
                              f"{n['used_from']}/{n['used_to']} with equipment",
                         value=date_from if date_from is not None else date_to, record=record)
        named = (received_from, received_to) if supplier else (used_from, used_to)
        if any(x is not None for x in named):
            pair = (n["received_from"], n["received_to"]) if supplier else (n["used_from"], n["used_to"])
            raise refuse(which, f"give the window once: {n['from']}/{n['to']} or {pair[0]}/{pair[1]}, not both",
                         hint=f"use {pair[0]}/{pair[1]}", record=record)
        if supplier:
            received_from, received_to = date_from, date_to
        else:
            used_from, used_to = date_from, date_to
    data: dict[str, Any] = {
        "lots": list(lots or []), "batches": list(batches or []), "serials": list(serials or []),
        "supplier": supplier, "equipment": equipment, "document": document, "serial_range": serial_range,
        "supplied_from": received_from, "supplied_to": received_to, "window_from": used_from, "window_to": used_to,
    }
    rename = {"supplied_from": n["received_from"], "supplied_to": n["received_to"], "window_from": n["used_from"],
              "window_to": n["used_to"]}
    if generic:  # the user typed --from/--to: name those in a refusal
        pre = "supplied" if supplier else "window"
        rename.update({f"{pre}_from": n["from"], f"{pre}_to": n["to"]})
    try:
        cause: ImpactCause = build(ImpactCause, {k: v for k, v in data.items() if v is not None}, "cause",
                                   record=record)
    except Exception as exc:  # name the flag the user typed, not the model field
        problems = getattr(exc, "problems", None)
        if problems:
            for p in problems:
                p.field = rename.get(p.field.split(".")[0], p.field)
            exc.field = problems[0].field  # type: ignore[attr-defined]
        raise
    if require and cause.is_empty():
        raise refuse("cause", "the question names no cause",
                     hint="give --lot, --batch, --serial, --supplier, --equipment, --document or --serial-range",
                     record=record)
    return cause


__all__ = ["cause_from_flags", "CLI_NAMES", "REST_NAMES"]
