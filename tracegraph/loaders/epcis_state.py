"""State by event time: where a unit is now is said by the event that HAPPENED last, not the one
captured last.

Why: a packaging line, a goods-in scanner and a customer's receiving dock capture their events
when they can, not in the order the events happened. A customer's receipt captured before the
shipment it closes must leave the unit `at_distributor` (as one document of both events does,
since a document is mapped in time order), not `in_transit` because the shipment arrived later.

How: the mapping (`epcis_map.Mapped`) notes, for every state property it sets
(`epcis_map.LATEST_FIELDS`: a unit's status and holder, a shipment's status and delivery, a
container's destruction, a batch's finish; `EARLIEST_FIELDS`: a batch's start), the event that
set it, as (eventTime in UTC, eventID). The graph keeps that on the node as `state_at` (JSON:
property -> [eventTime, eventID]). Before the facts reach the writer, `settle_state` reads the
stored `state_at` of the nodes the import touches and

- leaves out every state fact an event that happened earlier than the stored one states (for
  `EARLIEST_FIELDS`: later), so the writer (a plain `SET n += props`, untouched) cannot make the
  state go back in time;
- writes the merged `state_at` with the node, so the next capture compares against it.

An eventTime tie is broken by the eventID (not the recordTime, which a repository sets on
capture, i.e. in order of arrival). The rule is a maximum over the events' keys, so one document,
documents in time order and one event per capture in any order give the same state and the same
`state_at`. Deciding here, in Python on the mapped rows, keeps the write queries (and their
seals, engine/audit/seals.py) as they are.

Not covered: a status a command sets (a quarantine, a recall, containment's derivation for the
contents of a container) does not move `state_at`; such a node keeps the time of its last EPCIS
state, so an EPCIS event that happened after that still applies (as before, and
engine/status_policy.py still refuses one that would lift a quarantine). Nodes with no `state_at`
(the ERP import, EPCIS imports before this rule) take any event's state, as before.
"""

from __future__ import annotations

import json
from typing import Any

from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_map import EARLIEST_FIELDS, LATEST_FIELDS, EventKey, Mapped, NodeKey

#: the query parameter each label's ids go in (queries/epcis/state_of.cypher)
_PARAMS = {"Serial": "serials", "Shipment": "shipments", "Container": "containers", "Batch": "batches"}


def parse_state(raw: Any) -> dict[str, EventKey]:
    """A stored `state_at` back into {property: (eventTime, eventID)}; anything unreadable is none."""
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): (str(v[0]), str(v[1])) for k, v in data.items()
            if isinstance(v, list) and len(v) == 2}


def dump_state(at: dict[str, EventKey]) -> str:
    """`state_at` as stored: one canonical JSON text (sorted keys), the same for the same state."""
    return json.dumps({k: [v[0], v[1]] for k, v in sorted(at.items())}, separators=(",", ":"), sort_keys=True)


def stored_state(store: GraphStore, keys: list[NodeKey]) -> dict[NodeKey, dict[str, EventKey]]:
    """The stored `state_at` of those of these nodes that exist ({} where none is stored)."""
    params: dict[str, list[str]] = {p: [] for p in _PARAMS.values()}
    for label, nid in keys:
        if label in _PARAMS:
            params[_PARAMS[label]].append(nid)
    if not any(params.values()):
        return {}
    out: dict[NodeKey, dict[str, EventKey]] = {}
    for r in store.read("epcis.state_of", **{k: sorted(set(v)) for k, v in params.items()}):
        out[(r["label"], r["id"])] = parse_state(r.get("state_at"))
    return out


def merge(mapped_at: dict[str, EventKey], stored_at: dict[str, EventKey], label: str, exists: bool = True
          ) -> tuple[dict[str, EventKey], set[str]]:
    """(the merged state times, the properties whose mapped value is stale and must be left out)."""
    merged = dict(stored_at)
    stale: set[str] = set()
    earliest = EARLIEST_FIELDS.get(label, frozenset())
    for prop, at in mapped_at.items():
        old = stored_at.get(prop)
        if prop in earliest:  # a start the graph holds from elsewhere (the ERP) is not ours to move
            newer = at < old if old is not None else not exists
        else:
            newer = old is None or at > old
        if newer:
            merged[prop] = at
        else:  # stored by an event that happened later (earlier, for a start), or this very event
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
        old = stored.get(key, {})
        merged, stale = merge(at, old, key[0], exists=key in stored)
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


__all__ = ["settle_state", "stored_state", "merge", "parse_state", "dump_state"]
