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
   into the graph; a unit or lot (Serial, Batch, MaterialLot) no remaining event names (commissioned
   by mistake, or known only from the erroneous event) when an EPCIS import made it and no ERP import
   wrote it, with its links, and the Product / Material EPCIS made that only such records named (the
   remaining events are the stored and new events minus every declared one: a declaration names
   things but is no evidence that they exist, so what only declarations name is not made either,
   also for an original sent beside its declaration); packing: every interval of the children whose intervals differ is removed and
   the intervals all the remaining events give are written again (as epcis_late.py does);
3. the state the erroneous event set (`epcis_map.LATEST_FIELDS`: a unit's status and holder, a
   shipment's status and delivery, a container's destruction, a batch's finish; `EARLIEST_FIELDS`:
   a batch's start) is recomputed from the remaining events, `state_at` included, and written over
   the stored one (not merged by event time as epcis_state.py does: the erroneous event's time must
   stop counting). A batch time is recomputed only where `state_at` shows an EPCIS event set it, and
   cleared when no remaining event sets it: an ERP batch's start is never moved. A unit or lot that
   stays loses what else the erroneous event said of it (its lot, the UDI with that lot, an expiry)
   for what the remaining events say, on records EPCIS made (an ERP record's are its master data's);
4. the containers it shipped, received, returned or destroyed go to the containment derivation of
   the same run with their contents' status to classify again (`Mapped.retract["recheck"]`), so
   units that travelled inside a case follow (also when recovery finishes the run from its log:
   the step carries them as `recheck` rows, read by containment.derive_all).

The removals are one audited commit-log step of the import run (`epcis.tx_retract`, sealed by
engine/imports/merge_seals.py), before the upserts; all of it applies with the rest of the
document or not at all. Both versions stay on record: the EpcisEvent keeps the declaration as
`json`, the erroneous version as `original_json`, `error_declared` true.

Refused (Conflict naming the record, nothing written), as epcis_kinds.py refuses a re-kind: an
effect to undo (a removal included) on a record that holds more than EPCIS facts: a unit, lot or
container quarantined or under a recall, one returned by a recall return (a RETURNED_IN to a Return no EPCIS import made),
one with a quality record or a link the EPCIS mapping does not write, a shipment the ERP import
made. A recall coordinator must decide about those records, not an import.

Not undone: a unit or lot the ERP data holds stays when only the erroneous event named it (master
data says it exists; its effects are undone); so does a container only the erroneous event named
(it stays, empty); an ERP batch's finish the erroneous event overwrote cannot be given back (the
ERP's value is not kept: it is cleared when no remaining event sets one); a unit's status set by a
command (quarantine, recall) is refused above. The EpcisEvent node of the declared event stays
(both versions on record); its CONCERNS links to a record that is gone go with it, its JSON keeps
every identifier.
"""

from __future__ import annotations

import json
from typing import Any

from tracegraph.engine.errors import Conflict
from tracegraph.engine.imports.runner import staging_ids
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_kinds import EPCIS_LINKS, names
from tracegraph.loaders.epcis_map import CONCERNS, EARLIEST_FIELDS, LATEST_FIELDS, Mapped, NodeKey, event_id, map_events
from tracegraph.loaders.epcis_state import dump_state, ids_by_param, stored_state

#: effect edges an event makes (CONCERNS, OF stay: they say what the event named)
EFFECTS = ("SHIPPED_IN", "DELIVERED_TO", "RETURNED_IN", "PRODUCED", "CONSUMED_IN", "COMPONENT_OF")
#: a state property no remaining event sets goes back to this (None: removed)
FALLBACK: dict[str, dict[str, Any]] = {"Serial": {"status": "in_stock", "customer_id": None},
                                       "Shipment": {"status": "in_transit", "delivered_at": None},
                                       "Container": {"status": None, "destroyed_at": None, "destroyed_event": None},
                                       "Batch": {"started_at": None, "finished_at": None}}
#: records an event brings into being by naming them: gone when only erroneous events name them
MADE = ("Serial", "Batch", "MaterialLot")
#: what such records are OF: gone with the last of them, when EPCIS made it and nothing else links to it
MASTER = ("Product", "Material")
#: relationships a record may have and still be EPCIS's own to correct
OWN_LINKS = EPCIS_LINKS | {"DELIVERED_TO", "COMPONENT_OF"}
#: statuses only a command sets: a record holding one is not corrected behind its owner's back
HELD = ("quarantined", "recalled")
_PARAMS = {"Serial": "serials", "Container": "containers", "Batch": "batches", "MaterialLot": "lots",
           "Shipment": "shipments", "Customer": "customers", "Product": "products", "Material": "materials"}


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


def _declared_only(mapped: Mapped, decls: set[str]) -> set[NodeKey]:
    """Units and lots the import's error declarations name that none of its other events names."""
    named: set[NodeKey] = set()
    by_decl: set[NodeKey] = set()
    for k in mapped.edges:
        if k[0] == CONCERNS and k[1] == "EpcisEvent" and k[3] in MADE:
            (by_decl if k[2] in decls else named).add((k[3], k[4]))
    return by_decl - named


def _forget(mapped: Mapped, keys: set[NodeKey]) -> None:
    """Leave these records (and every edge touching them) out of what the import writes."""
    if not keys:
        return
    for ek in [ek for ek in mapped.edges if (ek[1], ek[2]) in keys or (ek[3], ek[4]) in keys]:
        del mapped.edges[ek]
    for key in keys:
        mapped.nodes.pop(key, None)
        mapped.defaults.pop(key, None)
        mapped.state_at.pop(key, None)


def _unmade(store: GraphStore, mapped: Mapped, decls: set[str], exists: set[NodeKey] | None = None) -> None:
    """A unit or lot only error declarations name, and not in the graph, is not made: a declared
    event is no evidence that what it names exists (the original beside its declaration in one
    document, a declaration of an event never received). So is a Product / Material only those
    named and the graph does not hold yet. `exists`: keys already known to be in the graph."""
    only = _declared_only(mapped, decls)
    if not only:
        return
    if exists is None:
        exists = set(_holds(store, only))
    gone = only - exists
    if not gone:
        return
    ends = {end for ek in mapped.edges if (ek[1], ek[2]) in gone or (ek[3], ek[4]) in gone
            for end in ((ek[1], ek[2]), (ek[3], ek[4])) if end[0] in MASTER}
    _forget(mapped, gone)
    still = {end for ek in mapped.edges for end in ((ek[1], ek[2]), (ek[3], ek[4])) if end[0] in MASTER}
    orphans = ends - still
    if orphans:
        _forget(mapped, orphans - set(_holds(store, orphans)))


def retract(store: GraphStore | None, mapped: Mapped, events: list[dict[str, Any]], originals: dict[str, str],
            context: list[Any], **map_kw: Any) -> None:
    """Undo in `mapped` (as steps and state the writer applies) what the stored erroneous versions
    of the declared events did (see the module docstring). Raises Conflict when a record outside
    EPCIS holds an effect to undo."""
    if store is None:
        return
    decls = {event_id(e) for e in events if e.get("errorDeclaration")}
    if not decls:
        return
    asked = sorted(eid for eid in originals if eid in decls)
    # only a version the graph holds did anything (one sent beside its declaration never applied)
    declared = {r["id"]: json.loads(r["json"]) for r in store.read("epcis.stored_events", ids=asked,
                                                                               staging=staging_ids(store))} if asked else {}
    declared = {k: e for k, e in declared.items() if not e.get("errorDeclaration")}
    if not declared:
        _unmade(store, mapped, decls)
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
    # the remaining events: a declared event (this import's, or one declared earlier) names things
    # but makes nothing, so it does not keep a unit or lot in the graph
    without = map_events([e for e in rest + events if not e.get("errorDeclaration")], context, **map_kw)

    rows: list[dict[str, Any]] = []
    dropped: set[NodeKey] = set()
    for key in with_.nodes:
        if key[0] in ("Shipment", "Return") and key not in without.nodes:
            dropped.add(key)
    # units and lots only the erroneous events named (commissioned by mistake), and what they are OF
    unnamed = {k for k in alone.nodes if k[0] in MADE and k not in without.nodes}
    masters = {k for k in alone.nodes if k[0] in MASTER and k not in without.nodes}
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
               | state_keys | customers | unnamed | {(lbl, c) for c in repack for (lbl, _k, *_r) in pw[c]})
    holds = _holds(store, {k for k in touched | masters | _declared_only(mapped, decls) if k[0] in _PARAMS})
    # a unit or lot EPCIS made and no ERP import wrote: EPCIS's own, gone with the erroneous event
    # (one the ERP data holds stays, as master data says it exists)
    made = {k for k in unnamed if k in holds and holds[k].get("made_by") == "epcis" and not holds[k].get("erp")}
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
    dropped |= customers | made
    # a Product / Material EPCIS made whose every link goes with the dropped units and lots and
    # the declared events (other units of the product keep it)
    for m in sorted(masters):
        row = holds.get(m)
        if row is None or row.get("made_by") != "epcis" or row.get("erp"):
            continue
        going = sum(1 for ek in alone.edges if (ek[3], ek[4]) == m
                    and ((ek[1], ek[2]) in dropped or (ek[1] == "EpcisEvent" and ek[2] in declared)))
        if int(row.get("degree") or 0) <= going:
            dropped.add(m)
    state_keys -= dropped
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
    _forget(mapped, dropped)
    # what the erroneous event said of a unit or lot that stays (its lot, its UDI with that lot, an
    # expiry): what the remaining events say instead, on EPCIS's own records (an ERP record's
    # properties are its master data's)
    for key in sorted(k for k in alone.nodes if k[0] in MADE and k in without.nodes and k in holds
                      and holds[k].get("made_by") == "epcis" and not holds[k].get("erp")):
        had, has = with_.nodes.get(key, {}), without.nodes[key]
        skip = LATEST_FIELDS.get(key[0], frozenset()) | EARLIEST_FIELDS.get(key[0], frozenset()) | {"id"}
        diff = {p: has.get(p) for p in had if p not in skip and had.get(p) != has.get(p)}
        if diff:
            mapped.nodes.setdefault(key, {"id": key[1]}).update(diff)
            mapped.defaults.setdefault(key, set()).difference_update(diff)
    # state: what the remaining events say, else the fallback; `state_at` theirs
    exists = stored_state(store, sorted(state_keys))
    for key in sorted(state_keys):
        if key not in exists:
            continue
        node = mapped.nodes.setdefault(key, {"id": key[1]})
        defaults = mapped.defaults.setdefault(key, set())
        values = without.nodes.get(key, {})
        at = dict(without.state_at.get(key, {}))
        fields = LATEST_FIELDS.get(key[0], frozenset()) | EARLIEST_FIELDS.get(key[0], frozenset())
        if key[0] == "Batch":
            # a batch time no EPCIS event set (an ERP batch's start: epcis_state.merge never moves
            # it) is not EPCIS's to recompute; one an event set is, cleared when none remains
            ours = set(exists[key][0])
            fields = fields & ours
            at = {p: t for p, t in at.items() if p in ours}
        for prop in fields:
            node[prop] = values.get(prop, FALLBACK[key[0]].get(prop)) if prop in at else FALLBACK[key[0]].get(prop)
            defaults.discard(prop)
        node["state_at"] = dump_state(at) if at else None
        defaults.discard("state_at")
        mapped.state_at[key] = dict(at)
    # containers: their contents follow, with their status classified again
    boxes = {k[1] for k in touched if k[0] == "Container"}
    boxes |= {k[2] for k in gone_edges if k[1] == "Container"}
    # a packing undone or changed: what it put in its container no longer follows that container
    # (the derivation finds those units by their `container_id`; nothing to classify again)
    mapped.containers |= boxes | {t[1] for c in repack for t in pw.get(c, set()) | po.get(c, set())}
    # no-op rows of the step, so a run finished from its log by recovery classifies them too
    rows += [{"kind": "recheck", "f": b, "t": "", "from": ""} for b in sorted(boxes)]
    mapped.retract["rows"] = mapped.retract.get("rows", []) + rows
    mapped.retract["recheck"] = sorted(set(mapped.retract.get("recheck", [])) | boxes)
    # the import's other declarations: what only they name is not made either
    _unmade(store, mapped, decls, exists={k for k in holds if k not in dropped})


__all__ = ["retract", "EFFECTS", "FALLBACK", "HELD", "MADE", "MASTER"]
