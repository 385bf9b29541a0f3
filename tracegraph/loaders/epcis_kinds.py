"""Order-independent lot kinds: what a class-level lot is does not depend on how its events arrived.

A packaging line or a goods-in scanner captures events one at a time, in whatever order they
reach us; a partner sends a day's events as one document. The graph must be the same either way.
For units and containers the key says what they are; for a class-level lot (an lgtin) the key
does not say whether it is a supplier's material lot or one of our production batches, so the
events decide (`epcis_map.lot_votes`: made here / bought from a supplier / consumed) and
`epcis_map.decide_kind` turns the SET of votes into a kind. A set has no order, so one document
and any sequence of single events agree, provided the votes of the events already in the graph
are counted too. That is this module's job, before a document is mapped:

1. the new events' votes are compared with the kind each named lot is stored as; they agree in
   nearly every case (a receipt first stores a MaterialLot, its consumption agrees; a
   consumption first stores a MaterialLot, the receipt agrees) and nothing more is read;
2. where they disagree (a lot stored as a MaterialLot is now produced: a sub-assembly consumed
   before its production event arrived; a lot stored as a Batch for want of any evidence is now
   received from a supplier or consumed), the stored events that name the lot are read and the
   kind is decided over all of them;
3. when that kind differs from the stored one, the lot is **re-kinded as an audited write of the
   same import run**: a `retype_<label>` commit-log step removes the wrongly kinded node (and the
   Product / Material only it named), and the lot is mapped again from the stored events together
   with the new ones, so its node, properties and edges are exactly those one document of all
   those events gives (`rekind`).

Only lots an EPCIS import created, whose relationships are all ones the EPCIS mapping writes,
are re-kinded. A lot from the ERP import keeps its kind (master data wins, as before); a lot that
quality records already refer to (a quarantine, a release, a complaint...) is not re-kinded behind
their back: the import is refused with a Conflict naming the lot, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracegraph.engine.errors import Conflict
from tracegraph.engine.imports.runner import staging_ids
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_map import Mapped, decide_kind, lot_votes, map_events

#: relationship types the EPCIS mapping writes to or from a lot: a lot with only these is EPCIS's own
EPCIS_LINKS = frozenset({"CONCERNS", "OF", "CONSUMED_IN", "PRODUCED", "SHIPPED_IN", "PACKED_IN", "RETURNED_IN"})


@dataclass
class Settled:
    """Kinds decided with the graph's events, and the lots whose stored node has the wrong one."""

    #: lot URI -> label, for every lot whose stored kind was checked against the graph's events
    kinds: dict[str, str] = field(default_factory=dict)
    #: lots to re-kind: {id, old (stored label), new (label), drop_of (its Product/Material goes too)}
    retype: list[dict[str, Any]] = field(default_factory=list)
    #: the stored events that name a re-kinded lot (parsed JSON), oldest first
    stored_events: list[dict[str, Any]] = field(default_factory=list)

    def ids(self) -> set[str]:
        return {r["id"] for r in self.retype}


def _disagrees(votes: set[str], stored: str) -> bool:
    return decide_kind(votes, stored) != stored


def votes_of(events: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in events:
        for uri, v in lot_votes(e).items():
            out.setdefault(uri, set()).add(v)
    return out


def settle(store: GraphStore | None, events: Sequence[dict[str, Any]], known: dict[str, str],
           new: dict[str, set[str]] | None = None) -> Settled:
    """Decide the kind of every lot the events say something about that the graph stores as the
    other kind (see the module docstring). Raises Conflict for a lot that would have to change
    kind but is not EPCIS's own to change. `new`: `votes_of(events)`, when the caller has it."""
    res = Settled()
    if store is None:
        return res
    if new is None:
        new = votes_of(events)
    suspect = sorted(u for u, vs in new.items() if known.get(u) in ("Batch", "MaterialLot")
                     and _disagrees(vs, known[u]))
    if not suspect:
        return res
    stored = [json.loads(r["json"]) for r in store.read("epcis.events_for", ids=suspect, staging=staging_ids(store))]
    old = votes_of(stored)
    info = {r["id"]: r for r in store.read("epcis.lot_kinds", ids=suspect) if r["label"] == known.get(r["id"])}
    blocked: list[str] = []
    for uri in suspect:
        label = known[uri]
        kind = decide_kind(new[uri] | old.get(uri, set()), label)
        row = info.get(uri)
        if kind == label or row is None:
            res.kinds[uri] = label
            continue
        if row.get("made_by") != "epcis":
            res.kinds[uri] = label  # the ERP's (or a command's) lot: master data keeps its kind
            continue
        foreign = sorted(set(row.get("types") or []) - EPCIS_LINKS)
        if foreign:
            blocked.append(f"{uri} (stored as {label}, the events say {kind}; it has {', '.join(foreign)})")
            continue
        res.kinds[uri] = kind
        res.retype.append({"id": uri, "old": label, "new": kind,
                           "drop_of": bool(row.get("of_id")) and row.get("of_made_by") == "epcis"
                           and int(row.get("of_degree") or 0) <= 1})
    if blocked:
        raise Conflict(
            "these lots were stored as one kind and the events now show they are the other, but records "
            "outside EPCIS refer to them, so they are not changed: " + "; ".join(blocked),
            hint="correct the lot's kind in the ERP data (or close the records that hold it), then capture again",
        )
    ids = res.ids()
    res.stored_events = [e for e in stored if ids & set(names(e))]
    return res


def names(e: dict[str, Any]) -> set[str]:
    """Every class-level identifier an event names (quantity lists and EPC lists)."""
    out: set[str] = set()
    for k in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        out.update(u for u in e.get(k) or [] if isinstance(u, str))
    for k in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        out.update(q["epcClass"] for q in e.get(k) or [] if isinstance(q, dict) and q.get("epcClass"))
    out.update(lot_votes(e))
    return out


def _touches(key: tuple[Any, ...], ids: set[str]) -> bool:
    return key[2] in ids or key[4] in ids


def rekind(mapped: Mapped, settled: Settled, events: Sequence[dict[str, Any]], context: list[Any],
           **map_kw: Any) -> None:
    """Replace what `mapped` says about each re-kinded lot by what ALL its events say (the stored
    ones and the new ones, mapped together, as one document would), and queue the removal of the
    wrongly kinded node (`mapped.retyped`, written by loaders/epcis_write.py as an audited step)."""
    ids = settled.ids()
    if not ids:
        return
    whole = map_events([*settled.stored_events, *events], context, kinds=settled.kinds, **map_kw)
    for key in [k for k in mapped.nodes if k[1] in ids]:
        del mapped.nodes[key]
        mapped.defaults.pop(key, None)
    for ekey in [k for k in mapped.edges if _touches(k, ids)]:
        del mapped.edges[ekey]
    for key, props in whole.nodes.items():
        if key[1] in ids:
            mapped.nodes[key] = dict(props)
            mapped.defaults[key] = set(whole.defaults.get(key, set()))
            mapped.state_at.pop(key, None)
            if key in whole.state_at:
                mapped.state_at[key] = dict(whole.state_at[key])
    for ekey, props in whole.edges.items():
        if _touches(ekey, ids):
            mapped.edges[ekey] = dict(props)
            for end in ((ekey[1], ekey[2]), (ekey[3], ekey[4])):  # a new Material / Product it needs
                if end not in mapped.nodes and end[0] in ("Material", "Product") and end in whole.nodes:
                    mapped.nodes[end] = dict(whole.nodes[end])
                    mapped.defaults[end] = set(whole.defaults.get(end, set()))
    mapped.retyped.extend({"id": r["id"], "old": r["old"], "drop_of": r["drop_of"]} for r in settled.retype)


__all__ = ["Settled", "settle", "rekind", "votes_of", "names", "EPCIS_LINKS"]
