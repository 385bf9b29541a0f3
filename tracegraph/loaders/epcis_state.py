"""State by event time: where a unit is now is said by the event that HAPPENED last, not the one
captured last.

Why: a packaging line, a goods-in scanner and a customer's receiving dock capture their events
when they can, not in the order the events happened. A customer's receipt captured before the
shipment it closes must leave the unit `at_distributor` (as one document of both events does,
since a document is mapped in time order), not `in_transit` because the shipment arrived later.

How: the mapping (`epcis_map.Mapped`) notes, for every state property it sets
(`epcis_map.LATEST_FIELDS`: a unit's status and holder, a shipment's status and delivery, a
container's destruction, a batch's finish; `EARLIEST_FIELDS`: a batch's start), the event that
set it (its eventTime in UTC). The graph keeps that on the node as `state_at` (JSON: property ->
eventTime). Before the facts reach the writer, `settle_state` reads the
stored `state_at` of the nodes the import touches and

- leaves out every state fact an event that happened earlier than the stored one states (for
  `EARLIEST_FIELDS`: later), so the writer (a plain `SET n += props`, untouched) cannot make the
  state go back in time;
- writes the merged `state_at` with the node, so the next capture compares against it.

Two events at the same instant that state different values are ordered by the value
(`epcis_map.state_rank`): not by the recordTime, which a repository sets on capture, i.e. in order
of arrival; not by the eventID either, which would move `state_at` each time a partner re-sends
the same facts under new eventIDs (a re-sent fact at the same time changes nothing). The rule is
a maximum over (eventTime, value), so one document, documents in time order and one event per
capture in any order give the same state and the same `state_at`. Deciding here, in Python on the mapped rows, keeps the write queries (and their
seals, engine/audit/seals.py) as they are.

Not covered: a status a command sets (a quarantine, a recall, containment's derivation for the
contents of a container) does not move `state_at`; such a node keeps the time of its last EPCIS
state, so an EPCIS event that happened after that still applies (as before, and
engine/status_policy.py still refuses one that would lift a quarantine). Nodes with no `state_at`
(the ERP import, EPCIS imports before this rule) take any event's state, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_map import EARLIEST_FIELDS, LATEST_FIELDS, EventKey, Mapped, NodeKey, state_rank

#: the query parameter each label's ids go in (queries/epcis/state_of.cypher)
_PARAMS = {"Serial": "serials", "Shipment": "shipments", "Container": "containers", "Batch": "batches"}


def parse_state(raw: Any) -> dict[str, EventKey]:
    """A stored `state_at` back into {property: eventTime}; anything unreadable is none."""
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def dump_state(at: dict[str, EventKey]) -> str:
    """`state_at` as stored: one canonical JSON text (sorted keys), the same for the same state."""
    return json.dumps(dict(sorted(at.items())), separators=(",", ":"), sort_keys=True)


def ids_by_param(keys: Iterable[NodeKey], params: dict[str, str]) -> dict[str, list[str]] | None:
    """Node keys split into one id list per query parameter (`params`: label -> parameter name),
    sorted and unique; None when none of the keys has a listed label (nothing to read)."""
    out: dict[str, set[str]] = {p: set() for p in params.values()}
    for label, nid in keys:
        if label in params:
            out[params[label]].add(nid)
    if not any(out.values()):
        return None
    return {k: sorted(v) for k, v in out.items()}


def stored_state(store: GraphStore, keys: list[NodeKey]) -> dict[NodeKey, tuple[dict[str, EventKey], dict[str, Any]]]:
    """(stored `state_at` ({} where none), properties) of those of these nodes that exist."""
    params = ids_by_param(keys, _PARAMS)
    if params is None:
        return {}
    out: dict[NodeKey, tuple[dict[str, EventKey], dict[str, Any]]] = {}
    for r in store.read("epcis.state_of", **params):
        props = dict(r.get("props") or {})
        out[(r["label"], r["id"])] = (parse_state(props.get("state_at")), props)
    return out


def merge(mapped_at: dict[str, EventKey], stored_at: dict[str, EventKey], label: str, exists: bool = True,
          values: dict[str, Any] | None = None, stored: dict[str, Any] | None = None
          ) -> tuple[dict[str, EventKey], set[str]]:
    """(the merged state times, the properties whose mapped value is stale and must be left out).
    `values` are the mapped values, `stored` the node's stored ones (they order two statements at
    the same instant)."""
    values, stored = values or {}, stored or {}
    merged = dict(stored_at)
    stale: set[str] = set()
    earliest = EARLIEST_FIELDS.get(label, frozenset())
    for prop, at in mapped_at.items():
        old = stored_at.get(prop)
        mine, theirs = state_rank(values.get(prop)), state_rank(stored.get(prop))
        if prop in earliest:  # a start the graph holds from elsewhere (the ERP) is not ours to move
            newer = (at < old or (at == old and mine < theirs)) if old is not None else not exists
        else:
            newer = old is None or at > old or (at == old and mine > theirs)
        if newer:
            merged[prop] = at
        else:  # stored by an event that happened later (earlier, for a start), or the same fact again
            stale.add(prop)
    return merged, stale


def settle_state(store: GraphStore | None, mapped: Mapped) -> dict[NodeKey, set[str]]:
    """Drop from `mapped` the state facts the graph holds from an event that happened later, and
    give each node its merged `state_at` (see the module docstring). Returns what was dropped,
    per node (for tests and reports). Without a store (a dry read), only `state_at` is set."""
    keys = [k for k in mapped.state_at if k[0] in LATEST_FIELDS or k[0] in EARLIEST_FIELDS]
    stored = stored_state(store, keys) if store is not None and keys else {}
    dropped: dict[NodeKey, set[str]] = {}
    for key in keys:
        at = mapped.state_at[key]
        if not at or key not in mapped.nodes:
            continue
        old, props = stored.get(key, ({}, {}))
        merged, stale = merge(at, old, key[0], exists=key in stored, values=mapped.nodes[key], stored=props)
        node = mapped.nodes[key]
        defaults = mapped.defaults.get(key, set())
        earliest = EARLIEST_FIELDS.get(key[0], frozenset())
        for prop in stale:
            node.pop(prop, None)
            defaults.discard(prop)
        for prop in set(at) - stale:
            if prop in earliest and prop in old:
                defaults.discard(prop)  # an earlier start than the stored one: stated, not a default
        if stale:
            dropped[key] = stale
        if merged != old:
            node["state_at"] = dump_state(merged)
            defaults.discard("state_at")
    return dropped


__all__ = ["settle_state", "stored_state", "merge", "parse_state", "dump_state", "ids_by_param"]
