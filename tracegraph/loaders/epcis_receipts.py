"""Receipts captured before their shipment: the later shipment absorbs the receipt's own.

Why: a customer's receiving dock may capture its receipt before our shipping event reaches the
repository. With a business transaction in common (the despatch advice) both events name the same
Shipment key and MERGE into one node. Without one, the receipt finds no shipment to close and
makes one of its own, keyed by its event id (or its despatch advice), as a goods-in receipt from a
supplier does: a *provisional* shipment, one that only receiving events speak of. When the
shipping event arrives, one document of both events would have given ONE shipment (the shipping
event's, delivered by the receipt); captured in this order there would be two.

The rule (GS1 CBV: a receiving event closes the shipping event of the same objects sent to where
they are received, before they are received; `epcis_map.receipt_fits`), the same in one
document, for a shipment stored earlier, and here:

- the receipt and the shipment name a unit, lot or container in common (`epcList`,
  `quantityList`);
- the destination the shipment names (owning party > possessing party > location) is one of the
  receipt's destinations, or one of the two names none;
- the shipment was sent no later than the receipt (eventTime);
- of several shipments that fit, the receipt closes the latest (as in one document).

How: for the new shipping events' objects, the provisional shipments the graph holds
(`epcis.receipt_shipments`) and their receipts are read; the receipts are mapped again together
with the new events (`epcis_map.map_events`), as one document would be. Where a receipt now
closes another shipment than its provisional one, the provisional Shipment is **absorbed as an
audited step of the same import run**: an `epcis.tx_absorb_shipment` commit-log step (audited like
every step, its query, row count and SHA-256 in the chain; sealed: the seals it deletes are
dropped from the entry's ledger, engine/imports/merge_seals.py) removes it with its links (and the
Customer only it was delivered to), and the shipment the receipt closes is written with what all
of these events say about it (delivered, its delivery date, `DELIVERED_TO {date}`, the receipt's
`CONCERNS`). All or nothing with the rest of the run.

Only shipments an EPCIS import created, whose relationships are all ones the EPCIS mapping
writes, are absorbed. A provisional shipment that records outside EPCIS refer to (a recall, a
complaint...) is not removed behind them: the import is refused with a Conflict naming it.

Not covered: a receipt and a shipment at the same instant (in one document their order in the
document decides); a second receipt of units whose shipment is already delivered (one document
lets it close that delivered shipment again; across captures it makes its own).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tracegraph.engine.errors import Conflict
from tracegraph.engine.imports.runner import staging_ids
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_map import CONCERNS, Mapped, event_id, key_of, map_events, short_vocab, to_utc
from tracegraph.loaders.epcis_spool import where

#: relationship types the EPCIS mapping writes to or from a shipment
SHIPMENT_LINKS = frozenset({"CONCERNS", "SHIPPED_IN", "DELIVERED_TO"})


def _shipping(e: dict[str, Any]) -> bool:
    return (e.get("type") == "ObjectEvent" and short_vocab(e.get("bizStep")) == "shipping"
            and not e.get("errorDeclaration") and short_vocab(e.get("disposition")) != "returned")


def _objects(e: dict[str, Any]) -> set[str]:
    out = {key_of(u) for u in e.get("epcList") or [] if isinstance(u, str)}
    out |= {key_of(q["epcClass"]) for q in e.get("quantityList") or [] if isinstance(q, dict) and q.get("epcClass")}
    return out


def _closes(whole: Mapped, eid: str) -> str | None:
    """The shipment a receiving event closes in `whole`."""
    for k in whole.edges:
        if k[0] == CONCERNS and k[1] == "EpcisEvent" and k[2] == eid and k[3] == "Shipment" and k[5] == "shipment":
            return k[4]
    return None


def absorb_early_receipts(store: GraphStore | None, mapped: Mapped, events: Sequence[dict[str, Any]],
                          context: list[Any], **map_kw: Any) -> dict[str, str]:
    """Let the new shipping events absorb the provisional shipments of receipts captured before
    them (see the module docstring). Returns {absorbed shipment id: the shipment it became}."""
    ships = where(events, _shipping)
    if store is None or not ships:
        return {}
    things = set().union(*(_objects(e) for e in ships))
    if not things or not store.read("imports.any_Shipment"):
        return {}  # no shipment in the graph yet (a first import): no read per unit
    first = min(to_utc(e.get("eventTime")) or "" for e in ships)
    receipts: dict[str, dict[str, Any]] = {}
    provisional: dict[str, str] = {}  # receipt event id -> its own shipment
    new_ids = {event_id(e) for e in events}
    for r in store.read("epcis.receipt_shipments", ids=sorted(things), staging=staging_ids(store)):
        for raw in r["receipts"] or []:
            e = json.loads(raw)
            eid = event_id(e)
            if eid in new_ids or (to_utc(e.get("eventTime")) or "") < first:
                continue  # received before any of the new shipments was sent: none of them is its shipment
            receipts[eid] = e
            provisional[eid] = r["id"]
    if not receipts:
        return {}
    whole = map_events([*receipts.values(), *events], context, **map_kw)
    into: dict[str, str] = {}
    for eid, own in provisional.items():
        target = _closes(whole, eid)
        if target is not None and target != own and ("Shipment", own) not in whole.nodes:
            into[own] = target
    if not into:
        return {}
    holds = {r["id"]: r for r in store.read("epcis.shipment_holds", ids=sorted(into))}
    blocked = []
    for sid in sorted(into):
        row = holds.get(sid)
        if row is None:
            continue
        foreign = sorted(set(row.get("types") or []) - SHIPMENT_LINKS)
        if row.get("made_by") != "epcis" or foreign:
            blocked.append(f"{sid} ({'made by ' + str(row.get('made_by') or 'the ERP import or a command')}"
                           + (f"; it has {', '.join(foreign)}" if foreign else "") + ")")
    if blocked:
        raise Conflict(
            "a shipping event closes shipments that receipts captured before it had made on their own, but "
            "these are not EPCIS's own to replace: " + "; ".join(blocked),
            hint="close or move the records that hold the shipment, then capture the shipping event again",
        )
    # what all the events say about the shipments the receipts close, in place of what the new ones say
    for target in sorted(set(into.values())):
        key = ("Shipment", target)
        mapped.nodes[key] = dict(whole.nodes[key])
        mapped.defaults[key] = set(whole.defaults.get(key, set()))
        mapped.state_at.pop(key, None)
        if key in whole.state_at:
            mapped.state_at[key] = dict(whole.state_at[key])
        for ekey in [k for k in mapped.edges if (k[3], k[4]) == key or (k[1], k[2]) == key]:
            del mapped.edges[ekey]
        for ekey, props in whole.edges.items():
            if (ekey[3], ekey[4]) == key or (ekey[1], ekey[2]) == key:
                mapped.edges[ekey] = dict(props)
    for own in into:
        for ekey in [k for k in mapped.edges if (k[3], k[4]) == ("Shipment", own) or (k[1], k[2]) == ("Shipment", own)]:
            del mapped.edges[ekey]
        mapped.nodes.pop(("Shipment", own), None)
    mapped.containers |= whole.containers
    named = {k[1] for k in mapped.nodes if k[0] == "Customer"} | {
        k[4] for k in mapped.edges if k[3] == "Customer"}
    for sid in sorted(into):
        row = holds.get(sid) or {}
        cust = row.get("customer_id")
        drop = (bool(cust) and cust not in named and row.get("customer_made_by") == "epcis"
                and int(row.get("customer_degree") or 0) <= 1)
        mapped.absorbed.append({"id": sid, "drop_customer": drop})
    return into


__all__ = ["absorb_early_receipts", "SHIPMENT_LINKS"]
