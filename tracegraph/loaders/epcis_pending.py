"""What an EPCIS import left pending: events whose referent has not arrived yet.

Nothing is dropped: every event is stored (its `EpcisEvent` node with the original JSON and its
`CONCERNS` links) and applied as far as it can be, and the rest is applied when the missing piece
arrives (docs/epcis.md, "Events that arrive before what they refer to"). What is still missing
after an import is said in its answer (`EpcisImportResult.pending`, the ImportReport's message,
the capture job's `pending`), per unit, container or shipment the import named:

- a unit no batch produced: its commissioning / production event has not arrived (`production`);
- a container shipped, received or returned with nothing known to be inside it: its packing has
  not arrived, so its contents cannot follow it yet (`packing`);
- a shipment of units or containers only receiving events speak of: the shipping event has not
  arrived (`shipping`; when it does, it absorbs this shipment, loaders/epcis_receipts.py).

Read from the graph after the write, so a piece that arrived in the same import, or earlier, is
not reported.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_map import Mapped

Missing = Literal["production", "packing", "shipping"]

_WHAT = {"production": "its commissioning or production event (no batch produced it)",
         "packing": "its packing (nothing is known to be inside it, so its contents cannot follow it yet)",
         "shipping": "the shipping event (only a receipt names this shipment)"}


class PendingItem(BaseModel):
    """One thing an import named whose missing piece has not arrived."""

    label: Literal["Serial", "Container", "Shipment"]
    id: str
    missing: Missing
    message: str = ""

    def line(self) -> str:
        return f"{self.label} {self.id}: waiting for {_WHAT[self.missing]}"


def pending_of(store: GraphStore, mapped: Mapped) -> list[PendingItem]:
    """The units, containers and shipments `mapped` names that are still waiting for something."""
    return pending_among(store, unsettled(mapped))


def unsettled(mapped: Mapped) -> dict[str, list[str]]:
    """The units, containers and shipments `mapped` names that it does not itself settle: what
    `pending_among` asks the graph about after the import (taken before the mapped facts are
    released)."""
    # what this import itself settles is not asked about (a whole plant in one document: nothing)
    settled: set[tuple[str, str]] = set()
    for etype, _fl, _fid, tl, tid, role in mapped.edges:
        if etype in ("PRODUCED", "PACKED_IN"):
            settled.add((tl, tid))
        elif etype == "CONCERNS" and tl == "Shipment" and role == "shipment":
            ev = mapped.nodes.get(("EpcisEvent", _fid)) or {}
            if ev.get("biz_step") == "shipping":
                settled.add((tl, tid))
    ids: dict[str, list[str]] = {"Serial": [], "Container": [], "Shipment": []}
    for label, nid in mapped.nodes:
        if label in ids and (label, nid) not in settled:
            ids[label].append(nid)
    return ids


def pending_among(store: GraphStore, ids: dict[str, list[str]]) -> list[PendingItem]:
    """Which of these units, containers and shipments are still waiting for something."""
    if not any(ids.values()):
        return []
    rows = store.read("epcis.pending", serials=sorted(ids["Serial"]), containers=sorted(ids["Container"]),
                      shipments=sorted(ids["Shipment"]))
    out = [PendingItem(label=r["label"], id=r["id"], missing=r["missing"]) for r in rows]
    for p in out:
        p.message = p.line()
    return sorted(out, key=lambda p: (p.label, p.id))


def summary(items: list[PendingItem], limit: int = 5) -> str:
    """One line for a report: how many are pending, the first few named."""
    if not items:
        return ""
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return f"pending {len(items)}: " + "; ".join(p.line() for p in items[:limit]) + more


__all__ = ["PendingItem", "pending_of", "pending_among", "unsettled", "summary", "Missing"]
