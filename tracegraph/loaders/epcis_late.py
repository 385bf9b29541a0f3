"""Late packing events: an aggregation captured after events that happened later than it.

Why: packing is kept as intervals, `(child)-[:PACKED_IN {from, to}]->(Container)`, and the write
queries (queries/epcis/pack_*.cypher, unpack.cypher) build them for events that arrive in time
order: packing elsewhere closes the open link, an unpack closes it. An unpack captured before the
packing it ends finds nothing open (and the packing, arriving next, stays open for ever); a
packing into case A captured after the move of the same unit into case B opens a second interval
that nothing closes. One document of the same events gives closed, correct intervals, because it
is mapped in time order. So when an import brings aggregation events that happened BEFORE
aggregation events the graph already holds about the same units or containers, the intervals of
the units concerned are worked out again from all of their aggregation events, the stored ones
and the new ones, mapped together as one document would be (`epcis_map.map_events`), and written
with explicit `from` and `to` (the pack queries MERGE a link by its `from` and set its `to`).

Which events: those about the new events' children and parents, then about every container those
units were ever in and every unit ever in those containers, to a fixed point, so an interval is
only rewritten from the complete set of events that bear on it (the units' own packing and
unpacking, and the whole-container unpacks of the containers they were in). In time order (the
packaging line's normal case) the stored events are read once, found to be earlier, and nothing
more is done.

An interval that should not exist at all in the one-document graph (an OBSERVE into a container
captured before the ADD into it opened a second link, where one document keeps one: the OBSERVE
confirms the packing the ADD opened) is removed: an `epcis.tx_unlink_pack` commit-log step of the
same run, audited and sealed like every step (the seals it deletes are dropped from the entry's
ledger). Only links EPCIS wrote are removed; a link the ERP import staged (it carries an
`import_id`) is never touched. An event whose error declaration arrived since its links were
written is left out of the events the intervals are worked out from, so its links go too, as in
one document.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tracegraph.engine.imports.runner import staging_ids
from tracegraph.engine.stores.base import GraphStore
from tracegraph.gs1.identifiers import parse_identifier
from tracegraph.loaders.epcis_map import Mapped, event_id, event_key, key_of, map_events
from tracegraph.loaders.epcis_spool import where


def _agg_objects(e: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(children, parents) an aggregation event names, by URI."""
    kids = {u for u in e.get("childEPCs") or [] if isinstance(u, str)}
    kids |= {q["epcClass"] for q in e.get("childQuantityList") or [] if isinstance(q, dict) and q.get("epcClass")}
    parent = e.get("parentID")
    return kids, ({parent} if isinstance(parent, str) and parent else set())


def _stored_aggregations(store: GraphStore, ids: set[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = store.read("epcis.events_for", ids=sorted(ids), staging=staging_ids(store))
    out = []
    for r in rows:
        e = json.loads(r["json"])
        if e.get("type") == "AggregationEvent":
            out.append(e)
    return out


def open_packs(store: GraphStore | None, events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The open packing intervals the graph holds for the units and containers these events name
    as aggregation children: {label, id, container, from} for `epcis_map.map_events(open_packs=)`.
    Without them a later document cannot tell an OBSERVE where a unit already is (which continues
    its interval) from a packing (which opens one): a document with an OBSERVE and then an unpack
    of a unit packed by an earlier one would leave two intervals where one document keeps one.
    Lots (quantities, possibly in several containers) are not seeded."""
    if store is None or not any(e.get("type") == "AggregationEvent" for e in events):
        return []
    if not store.read("imports.any_Container"):
        return []  # nothing packed yet (a first import): no read per unit
    ids: dict[str, set[str]] = {"Serial": set(), "Container": set()}
    for e in events:
        if e.get("type") != "AggregationEvent":
            continue
        for u in _agg_objects(e)[0]:
            ident = parse_identifier(u)
            label = {"sgtin": "Serial", "sscc": "Container"}.get(ident.kind)
            if ident.kind == "tracegraph" and ident.extra.get("label") in ids:
                label = ident.extra["label"]
            if label is not None:
                ids[label].add(key_of(u))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for label, keys in ids.items():
        if not keys:
            continue
        for r in store.read(f"epcis.packs_of_{label.lower()}", ids=sorted(keys)):
            if r.get("o") is None or r.get("to") is not None:
                continue
            cur = out.get((label, r["c"]))
            if cur is None or (r.get("from") or "") > (cur["from"] or ""):
                out[(label, r["c"])] = {"label": label, "id": r["c"], "container": r["o"], "from": r.get("from")}
    return [out[k] for k in sorted(out)]


def repack_late(store: GraphStore | None, mapped: Mapped, events: Sequence[dict[str, Any]], context: list[Any],
                **map_kw: Any) -> set[str]:
    """Rewrite in `mapped` the packing intervals of the units a late aggregation bears on (see the
    module docstring). Returns the ids of the children whose intervals change."""
    new = where(events, lambda e: e.get("type") == "AggregationEvent" and not e.get("errorDeclaration"))
    if store is None or not new:
        return set()
    kids: set[str] = set()
    parents: set[str] = set()
    for e in new:
        k, p = _agg_objects(e)
        kids |= k
        parents |= p
    first = min(event_key(e) for e in new)
    new_ids = {event_id(e) for e in new}
    stored = {event_id(e): e for e in _stored_aggregations(store, kids | parents) if event_id(e) not in new_ids}
    if not any(event_key(e) > first for e in stored.values()):
        return set()  # in time order: the write queries build the intervals
    asked = kids | parents
    while True:  # to a fixed point: every unit and container the packing of these units bears on
        more: set[str] = set()
        for e in stored.values():
            k, p = _agg_objects(e)
            more |= k | p
        more -= asked
        if not more:
            break
        asked |= more
        for e in _stored_aggregations(store, more):
            if event_id(e) not in new_ids:
                stored.setdefault(event_id(e), e)
    map_kw = {k: v for k, v in map_kw.items() if k != "open_packs"}  # worked out from all the events alone
    whole = map_events([*stored.values(), *new], context, **map_kw)
    children = set()
    for e in [*stored.values(), *new]:
        children |= {key_of(u) for u in _agg_objects(e)[0]}
    # the intervals as they are stored: a link the late events do not change is not written again
    rows = store.read("epcis.packed_links", ids=sorted(children))
    held = {(r["f"], r["t"], r.get("from") or ""): (r.get("to"), r.get("qty")) for r in rows}
    held_erp = {(r["f"], r["t"], r.get("from") or ""): r.get("import_id") for r in rows}
    for ekey in [ek for ek in mapped.edges if ek[0] == "PACKED_IN" and ek[2] in children]:
        del mapped.edges[ekey]
    changed: set[str] = set()
    made = {(ek[2], ek[4], props.get("from") or "") for ek, props in whole.edges.items()
            if ek[0] == "PACKED_IN" and ek[2] in children}
    for (f, t, frm), _v in held.items():  # an interval no event opens any more (an OBSERVE before its ADD)
        if (f, t, frm) not in made and held_erp.get((f, t, frm)) is None:
            mapped.unlinked.append({"f": f, "t": t, "from": frm})
            changed.add(f)
    for ekey, props in whole.edges.items():
        if ekey[0] != "PACKED_IN" or ekey[2] not in children:
            continue
        if held.get((ekey[2], ekey[4], props.get("from") or "")) == (props.get("to"), props.get("qty")):
            continue
        mapped.edges[ekey] = dict(props)
        changed.add(ekey[2])
    mapped.containers |= whole.containers
    return changed


__all__ = ["repack_late", "open_packs"]
