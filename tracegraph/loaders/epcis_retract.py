"""GS1 error declarations: what an erroneous event did is undone, in the import that declares it.

Why: a recall answer is read off the graph. A shipment to hospital H1 that never happened, declared
erroneous (EPCIS 2.0 §7.4.1.2: the original event sent again with `errorDeclaration`, CBV reasons
such as `incorrect_data` or `did_not_occur`) and corrected by a shipment to H2, must leave H1
nowhere: not as the units' holder, not in their history, not as a past holder a recall notifies.
Marking the event declared is not enough when an earlier import already applied it.

How (`retract`, called by `epcis.load_document` after the state is settled): for each event of
the import whose STORED version is now declared erroneous (`epcis_identity.dedupe` gives those as
`originals`),

1. the stored events that name the same objects (units, containers, lots, its shipment or return)
   are read; `with_` maps them with the erroneous version, `without` with the import's own events
   instead (the declaration, which the mapping does not apply, and the corrective events), each as
   one document would be mapped (`epcis_map.map_events`);
2. every effect edge of `with_` that `without` does not have is removed: the items' own SHIPPED_IN
   and RETURNED_IN links, DELIVERED_TO, PRODUCED, CONSUMED_IN, COMPONENT_OF; the Shipment / Return
   record itself when no remaining event makes it, and a Customer the erroneous event alone brought
   into the graph; packing: every interval of the children whose intervals differ is removed and
   the intervals all the remaining events give are written again (as epcis_late.py does);
3. the state the erroneous event set (`epcis_map.LATEST_FIELDS`: a unit's status and holder, a
   shipment's status and delivery, a container's destruction) is recomputed from the remaining
   events, `state_at` included, and written over the stored one (not merged by event time as
   epcis_state.py does: the erroneous event's time must stop counting);
4. the containers it shipped, received, returned or destroyed go to the containment derivation of
   the same run with their contents' status to classify again (`Mapped.retract["recheck"]`), so
   units that travelled inside a case follow (also when recovery finishes the run from its log:
   the step carries them as `recheck` rows, read by containment.derive_all).

The removals are one audited commit-log step of the import run (`epcis.tx_retract`, sealed by
engine/imports/merge_seals.py), before the upserts; all of it applies with the rest of the
document or not at all. Both versions stay on record: the EpcisEvent keeps the declaration as
`json`, the erroneous version as `original_json`, `error_declared` true.

Refused (Conflict naming the record, nothing written), as epcis_kinds.py refuses a re-kind: an
effect to undo on a record that holds more than EPCIS facts: a unit or container quarantined or
under a recall, one returned by a recall return (a RETURNED_IN to a Return no EPCIS import made),
one with a quality record or a link the EPCIS mapping does not write, a shipment the ERP import
made. A recall coordinator must decide about those records, not an import.

Not undone: nodes the erroneous event named stay (the declared event still names them: a unit
commissioned by mistake stays a Serial, with its product); a batch's start or finish time the
erroneous event set stays; a unit's status set by a command (quarantine, recall) is refused above.
"""

from __future__ import annotations

import json
from typing import Any

from tracegraph.engine.errors import Conflict
from tracegraph.engine.imports.runner import staging_ids
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_kinds import EPCIS_LINKS, names
from tracegraph.loaders.epcis_map import LATEST_FIELDS, Mapped, NodeKey, event_id, map_events
from tracegraph.loaders.epcis_state import dump_state, ids_by_param

#: effect edges an event makes (CONCERNS, OF stay: they say what the event named)
EFFECTS = ("SHIPPED_IN", "DELIVERED_TO", "RETURNED_IN", "PRODUCED", "CONSUMED_IN", "COMPONENT_OF")
#: a state property no remaining event sets goes back to this (None: removed)
FALLBACK: dict[str, dict[str, Any]] = {"Serial": {"status": "in_stock", "customer_id": None},
                                       "Shipment": {"status": "in_transit", "delivered_at": None},
                                       "Container": {"status": None, "destroyed_at": None, "destroyed_event": None}}
#: relationships a record may have and still be EPCIS's own to correct
OWN_LINKS = EPCIS_LINKS | {"DELIVERED_TO", "COMPONENT_OF"}
#: statuses only a command sets: a record holding one is not corrected behind its owner's back
HELD = ("quarantined", "recalled")
_PARAMS = {"Serial": "serials", "Container": "containers", "Batch": "batches", "MaterialLot": "lots",
           "Shipment": "shipments", "Customer": "customers"}


def _objects(m: Mapped) -> set[str]:
    return {k[1] for k in m.nodes if k[0] in ("Serial", "Container", "Batch", "MaterialLot", "Shipment", "Return")}


def _parent(e: dict[str, Any]) -> set[str]:
    p = e.get("parentID")
    return {p} if isinstance(p, str) and p else set()


def _read_events(store: GraphStore, ids: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if ids:
        for r in store.read("epcis.events_for", ids=sorted(ids), staging=staging_ids(store)):
            e = json.loads(r["json"])
            out[event_id(e)] = e
    return out


def _holds(store: GraphStore, keys: set[NodeKey]) -> dict[NodeKey, dict[str, Any]]:
    params = ids_by_param(keys, _PARAMS)
    if params is None:
        return {}
    return {(r["label"], r["id"]): r for r in store.read("epcis.retract_holds", **params)}


def _why_held(key: NodeKey, row: dict[str, Any]) -> str | None:
    """What, besides EPCIS, holds this record (None: nothing)."""
    label, nid = key
    if row.get("status") in HELD:
        return f"{label} {nid} is {row['status']}"
    if row.get("returns"):
        return f"{label} {nid} was returned by {', '.join(sorted(row['returns']))} (a return outside EPCIS)"
    foreign = sorted(set(row.get("types") or []) - OWN_LINKS - {"CONCERNS"})
    if foreign:
        return f"{label} {nid} has {', '.join(foreign)}"
    if label == "Shipment" and row.get("made_by") != "epcis":
        return f"Shipment {nid} comes from the ERP data, not from EPCIS"
    return None


def retract(store: GraphStore | None, mapped: Mapped, events: list[dict[str, Any]], originals: dict[str, str],
            context: list[Any], **map_kw: Any) -> None:
    """Undo in `mapped` (as steps and state the writer applies) what the stored erroneous versions
    of the declared events did (see the module docstring). Raises Conflict when a record outside
    EPCIS holds an effect to undo."""
    if store is None:
        return
    asked = sorted(eid for eid in originals if any(event_id(e) == eid and e.get("errorDeclaration") for e in events))
    if not asked:
        return
    # only a version the graph holds did anything (one sent beside its declaration never applied)
    declared = {r["id"]: json.loads(r["json"]) for r in store.read("epcis.stored_events", ids=asked,
                                                                               staging=staging_ids(store))}
    declared = {k: e for k, e in declared.items() if not e.get("errorDeclaration")}
    if not declared:
        return
    alone = map_events(list(declared.values()), context, **map_kw)
    ids = _objects(alone) | {n for e in declared.values() for n in names(e) | _parent(e)}
    new_ids = {event_id(e) for e in events}
    stored = {k: e for k, e in _read_events(store, ids).items() if k not in new_ids}
    # the packing of the containers named: every event about them and their children
    more = {n for e in stored.values() if e.get("type") == "AggregationEvent" for n in names(e) | _parent(e)} - ids
    stored.update({k: e for k, e in _read_events(store, more).items() if k not in new_ids})
    rest = list(stored.values())
    with_ = map_events(rest + list(declared.values()), context, **map_kw)
    without = map_events(rest + events, context, **map_kw)

    rows: list[dict[str, Any]] = []
    dropped: set[NodeKey] = set()
    for key in with_.nodes:
        if key[0] in ("Shipment", "Return") and key not in without.nodes:
            dropped.add(key)
    gone_edges = [k for k in with_.edges if k[0] in EFFECTS and k not in without.edges]
    # a customer only the erroneous event brought in: dropped with its delivery, when EPCIS made it
    customers = {("Customer", k[4]) for k in gone_edges if k[0] == "DELIVERED_TO"}
    customers -= {("Customer", k[4]) for k in without.edges if k[0] == "DELIVERED_TO"}
    customers -= set(without.nodes)
    # packing: the children whose intervals differ
    def packs(m: Mapped) -> dict[str, set[tuple[Any, ...]]]:
        out: dict[str, set[tuple[Any, ...]]] = {}
        for k, p in m.edges.items():
            if k[0] == "PACKED_IN":
                out.setdefault(k[2], set()).add((k[1], k[4], p.get("from"), p.get("to"), p.get("qty")))
        return out
    pw, po = packs(with_), packs(without)
    repack = {c for c in set(pw) | set(po) if c in pw and pw.get(c) != po.get(c)}
    # the state the erroneous event set, from the remaining events
    state_keys = {k for k in with_.state_at if k[0] in FALLBACK and k not in dropped}
    touched = ({k for k in dropped} | {(k[1], k[2]) for k in gone_edges} | {(k[3], k[4]) for k in gone_edges}
               | state_keys | customers | {(lbl, c) for c in repack for (lbl, _k, *_r) in pw[c]})
    holds = _holds(store, {k for k in touched if k[0] in _PARAMS})
    blocked = [why for k in sorted(touched) if k in holds and k not in customers
               and (why := _why_held(k, holds[k])) is not None]
    if blocked:
        raise Conflict(
            "the erroneous event's effects are held by records outside EPCIS, so they are not undone: "
            + "; ".join(blocked),
            hint="settle those records first (close the recall return, lift the quarantine, correct the ERP "
                 "data), then send the error declaration again")
    customers = {c for c in customers if c in holds and holds[c].get("made_by") == "epcis"
                 and int(holds[c].get("degree") or 0) <= sum(1 for k in gone_edges if k[0] == "DELIVERED_TO"
                                                              and k[4] == c[1])}
    dropped |= customers
    for k in gone_edges:
        if (k[1], k[2]) in dropped or (k[3], k[4]) in dropped:
            continue  # goes with the record
        rows.append({"kind": k[0], "f": k[2], "t": k[4], "from": ""})
    if repack:
        for r in store.read("epcis.packed_links", ids=sorted(repack)):
            rows.append({"kind": "PACKED_IN", "f": r["f"], "t": r["t"], "from": r.get("from") or ""})
        for ek in [ek for ek in mapped.edges if ek[0] == "PACKED_IN" and ek[2] in repack]:
            del mapped.edges[ek]
        for ek, p in without.edges.items():
            if ek[0] == "PACKED_IN" and ek[2] in repack:
                mapped.edges[ek] = dict(p)
        mapped.unpacked[:] = [u for u in mapped.unpacked if u[1] not in repack]
    for key in sorted(dropped):
        rows.append({"kind": f"drop_{key[0]}", "f": key[1], "t": "", "from": ""})
    # an effect edge the remaining events keep with other properties (a delivery date the erroneous
    # receipt gave): written again with theirs, the erroneous event's own ones removed
    for ek, p in with_.edges.items():
        if ek[0] in EFFECTS and ek in without.edges and without.edges[ek] != p \
                and (ek[1], ek[2]) not in dropped and (ek[3], ek[4]) not in dropped:
            mapped.edges[ek] = {**{k: None for k in p if k != "role"}, **without.edges[ek],
                                **{k: v for k, v in mapped.edges.get(ek, {}).items() if k in without.edges[ek]}}
    for ek in [ek for ek in mapped.edges if (ek[1], ek[2]) in dropped or (ek[3], ek[4]) in dropped]:
        del mapped.edges[ek]
    for key in dropped:
        mapped.nodes.pop(key, None)
        mapped.defaults.pop(key, None)
    # state: what the remaining events say, else the fallback; `state_at` theirs
    from tracegraph.loaders.epcis_state import stored_state

    exists = stored_state(store, sorted(state_keys))
    for key in sorted(state_keys):
        if key not in exists:
            continue
        node = mapped.nodes.setdefault(key, {"id": key[1]})
        defaults = mapped.defaults.setdefault(key, set())
        values = without.nodes.get(key, {})
        at = without.state_at.get(key, {})
        for prop in LATEST_FIELDS[key[0]]:
            node[prop] = values.get(prop, FALLBACK[key[0]].get(prop)) if prop in at else FALLBACK[key[0]].get(prop)
            defaults.discard(prop)
        node["state_at"] = dump_state(at) if at else None
        defaults.discard("state_at")
        mapped.state_at[key] = dict(at)
    # containers: their contents follow, with their status classified again
    boxes = {k[1] for k in touched if k[0] == "Container"}
    boxes |= {k[2] for k in gone_edges if k[1] == "Container"}
    mapped.containers |= boxes
    # no-op rows of the step, so a run finished from its log by recovery classifies them too
    rows += [{"kind": "recheck", "f": b, "t": "", "from": ""} for b in sorted(boxes)]
    mapped.retract["rows"] = mapped.retract.get("rows", []) + rows
    mapped.retract["recheck"] = sorted(set(mapped.retract.get("recheck", [])) | boxes)


__all__ = ["retract", "EFFECTS", "FALLBACK", "HELD"]
