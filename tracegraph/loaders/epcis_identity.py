"""Event identity: an EPCIS event is known by its eventID, and an eventID means one event.

- The same event again (same eventID, same content) is a no-op: it is left out of the import, so a
  partner re-sending yesterday's file, or a scanner retrying a capture, changes nothing.
- A known eventID with different content is refused, naming the fields that differ and showing
  both versions; a repository must not let an event change behind its eventID.
- Except a GS1 error declaration (EPCIS 2.0 §7.4.1.2): the original event re-sent with an
  `errorDeclaration` (declarationTime, reason, correctiveEventIDs), usually beside its corrective
  events, in a later document or beside the original in the same one. It is applied (the mapping
  stops counting the erroneous event's effects, and epcis_retract.py undoes what an earlier import
  of it did), and the original version stays on record on the event node (`original_json`).
- Two different events with one eventID inside one document are refused the same way.

`recordTime` is not part of an event's identity: the repository sets it when it captures.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.engine.imports.runner import staging_ids
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_map import canonical_json, event_id
from tracegraph.loaders.epcis_spool import EventSpool

NOT_IDENTITY = ("recordTime",)


def _identity(e: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in e.items() if k not in NOT_IDENTITY}


def _differing(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    keys = sorted(set(a) | set(b))
    return [k for k in keys if k not in NOT_IDENTITY and canonical_json(a.get(k)) != canonical_json(b.get(k))]


def _short(e: dict[str, Any], fields: list[str]) -> str:
    return json.dumps({k: e.get(k) for k in fields}, ensure_ascii=False, sort_keys=True)[:400]


def dedupe(store: GraphStore | None, events: Sequence[dict[str, Any]], source: str
           ) -> tuple[Sequence[dict[str, Any]], dict[str, str], int]:
    """(events to import, {eventID: stored JSON kept as original_json}, number of known events left out).

    Holds positions, not events: `events` may be an EventSpool (loaders/epcis_spool.py) that
    decodes an event when asked; the events to import are then a view on it (`take`).

    Raises ValidationFailed naming every event whose eventID is known with other content."""
    problems: list[Problem] = []
    first: dict[str, tuple[int, int]] = {}  # eventID -> (index of its first event, position of the one kept)
    in_doc: dict[str, str] = {}  # an original sent beside its own error declaration
    unique: list[tuple[int, str, int]] = []
    for i, e in enumerate(events):
        eid = event_id(e)  # the mapper's id: the eventID, or (none given) a hash of the whole event
        if eid in first:
            j, pj = first[eid]
            prev = events[pj]
            diff = _differing(prev, e)
            if diff == ["errorDeclaration"] and bool(prev.get("errorDeclaration")) != bool(e.get("errorDeclaration")):
                # the original and its error declaration in one document: the declaration is kept, the
                # original stays on record (and was never applied)
                (declared, original) = (i, prev) if e.get("errorDeclaration") else (pj, e)
                first[eid] = (j, declared)
                unique = [(k, x, declared if x == eid else y) for k, x, y in unique]
                in_doc[eid] = canonical_json(original)
                continue
            if diff:
                problems.append(Problem(record=f"event {i}", field="eventID", value=eid, source=source,
                                        message=f"event {j} of this document has the same eventID with other content "
                                                f"(differs in {', '.join(diff)}): {_short(prev, diff)} vs "
                                                f"{_short(e, diff)}"))
            continue
        first[eid] = (i, i)
        unique.append((i, eid, i))
    stored: dict[str, dict[str, Any]] = {}
    if store is not None and unique:
        ids = [eid for _, eid, _ in unique]
        staging = staging_ids(store)  # a dead staging run's events are not stored: its rollback comes first
        for k in range(0, len(ids), 5000):
            for r in store.read("epcis.stored_events", ids=ids[k:k + 5000], staging=staging):
                stored[r["id"]] = json.loads(r["json"])
    keep: list[int] = []
    originals: dict[str, str] = {}
    known = 0
    for i, eid, pos in unique:
        old = stored.get(eid)
        if old is None:
            keep.append(pos)
            if eid in in_doc:
                originals[eid] = in_doc[eid]
            continue
        e = events[pos]
        diff = _differing(old, e)
        if not diff:
            known += 1
            continue
        if e.get("errorDeclaration") and not old.get("errorDeclaration"):
            keep.append(pos)
            originals[eid] = canonical_json(old)
            continue
        problems.append(Problem(record=f"event {i}", field="eventID", value=eid, source=source,
                                message=f"eventID {eid} is already stored with other content (differs in "
                                        f"{', '.join(diff)}): stored {_short(old, diff)}, received {_short(e, diff)}"))
    if problems:
        raise ValidationFailed(
            f"{len(problems)} event(s) reuse a known eventID with different content; nothing was imported",
            problems,
            hint="send a correction as a GS1 error declaration (the original event with errorDeclaration and "
                 "correctiveEventIDs) plus the corrective event, or give a new event its own eventID")
    if isinstance(events, EventSpool):
        return events.take(keep), originals, known
    return [events[p] for p in keep], originals, known


__all__ = ["dedupe", "NOT_IDENTITY"]
