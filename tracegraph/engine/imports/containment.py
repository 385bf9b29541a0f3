"""Containment: what a shipped, received, returned or destroyed container did to its contents.

Why derive at write time: a case or pallet is shipped by its id (the EPCIS shipping ObjectEvent
names the SSCC; an ERP shipment line names the container), yet impact, recall scope and "as of"
answers are about units. Both impact engines (the graph's queries and the trace index) and the
as-of classifier read each unit's own `SHIPPED_IN` / `RETURNED_IN` edges and its status/holder.
So after every import that touches a container, this module works out, for everything that was
ever inside it, the shipments and returns of its enclosing containers *at the moment of that
event* and writes them as the item's own edges, marked with the container that carried it:

    (Serial)-[:SHIPPED_IN {via: "<container id>", qty}]->(Shipment)
    (Serial)-[:RETURNED_IN {via: "<container id>", qty}]->(Return)     (destroyed containers)

plus the item's current status and holder, classified from its whole history (own + derived)
by the same rule as the as-of answer, and a unit's `container_id`: the container holding it now
(sealed with the unit, engine/audit/seals.SEALED_EXTRA), which the graph engine's "now" answers
read with the unit instead of following its links (engine/trace/containers.py).

Packing is kept over time as `(child)-[:PACKED_IN {from, to, qty}]->(Container)` (`to` null
while packed). "Inside K at t" means a chain of links, each with `from <= t < to`, from the item
up to K. Recomputation is per item and complete: the items under the touched containers (at any
time), with every container they or their containers were ever in, so an unpack or a late
packing event re-derives (derived edges that no longer hold are removed). Writes are audited
statements about the import run (action `containment.derive`), in chunks of items, written
while the run is still `committing` (runner.derive_contents): a run counts as committed only once
its contents are derived, so a crash in between is finished by recovery, which re-derives every
container (`derive_all`) because what the run touched is no longer known.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.audit.seals import EDGE_FIELDS, Ledger, current_lines, edge_seal, node_seal, reseal, with_ledger
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.stores.base import GraphStore

CHUNK = 2000
#: items per `containment.history` read
READ_KEYS = 5000
END = "\uffff"  # sorts after every timestamp: an open interval
LEAVES = ("Serial", "Batch", "MaterialLot")
#: statuses the derivation never overrides (set by a recall, an assembly, a direct destruction)
KEEP = ("quarantined", "consumed")
Item = tuple[str, str]  # (label, id)
#: the runner's progress callback: (phase, done, total); phase "derive", ticked before each chunk
Progress = Callable[[str, int, int], None]
#: what the derivation writes on an item: (status, holder, the container holding it now)
PlanRow = tuple[str, str | None, str | None]


@dataclass
class Link:
    child: Item
    container: str
    start: str
    end: str
    qty: float | None


@dataclass
class ContainerEvent:
    container: str
    kind: str  # SHIPPED_IN, RETURNED_IN or DESTROYED
    target: str
    date: str
    disposition: str | None = None
    customer: str | None = None


@dataclass
class Derived:
    """What the derivation computed (and wrote, unless dry)."""

    items: int = 0
    ships: int = 0
    returns: int = 0
    statuses: int = 0
    containers: list[str] = field(default_factory=list)


def inside(links_up: dict[Item, list[Link]], item: Item, t: str) -> list[str]:
    """The chain of containers `item` is in at time t, innermost first (empty when loose).
    A cycle in bad data stops the chain instead of looping."""
    chain: list[str] = []
    cur = item
    seen = {item}
    while True:
        nxt = [lk for lk in links_up.get(cur, ()) if lk.start <= t < lk.end]
        if not nxt:
            return chain
        lk = max(nxt, key=lambda x: x.start)
        cur = ("Container", lk.container)
        if cur in seen:
            return chain
        seen.add(cur)
        chain.append(lk.container)


def now_boxes(links: list[Link]) -> dict[Item, str]:
    """Each unit's container now: of its open links (`to` not set), the latest opened; two opened
    at the same time, the greater container id. The rule of the impact answers' packing
    (engine/trace/packing.open_at), which the trace index applies to the links themselves."""
    best: dict[Item, tuple[str, str]] = {}
    for lk in links:
        if lk.end == END and lk.child[0] == "Serial":
            got = best.get(lk.child)
            if got is None or (lk.start, lk.container) > got:
                best[lk.child] = (lk.start, lk.container)
    return {k: v[1] for k, v in best.items()}


def derive_facts(links: list[Link], events: list[ContainerEvent]) -> dict[Item, list[tuple[str, str, str, str, float]]]:
    """Pure: item -> [(kind, target, via container, date, qty)] from packing intervals and the
    containers' own events. A lot's quantity is the quantity on its innermost link."""
    up: dict[Item, list[Link]] = defaultdict(list)
    for lk in links:
        up[lk.child].append(lk)
    by_box: dict[str, list[ContainerEvent]] = defaultdict(list)
    for ev in events:
        by_box[ev.container].append(ev)
    ever: dict[str, set[str]] = {}  # container -> every container it was ever (transitively) in

    def ever_in(box: str) -> set[str]:
        if box not in ever:
            ever[box] = set()  # a cycle in bad data ends here
            acc_: set[str] = set()
            for lk in up.get(("Container", box), ()):
                acc_.add(lk.container)
                acc_ |= ever_in(lk.container)
            ever[box] = acc_
        return ever[box]

    out: dict[Item, list[tuple[str, str, str, str, float]]] = defaultdict(list)
    for item in up:
        cands: set[str] = set()
        for lk in up[item]:
            cands.add(lk.container)
            cands |= ever_in(lk.container)
        acc: dict[tuple[str, str, str], list[Any]] = {}
        for ev in (e for c in sorted(cands) for e in by_box.get(c, ())):
            chain = inside(up, item, ev.date)
            if ev.container not in chain:
                continue
            qty = 1.0
            if item[0] in ("Batch", "MaterialLot"):
                # a lot may sit in several containers of one shipment: add up every link inside it
                qty = sum(float(lk.qty or 0) for lk in up[item] if lk.start <= ev.date < lk.end
                          and ev.container in ([lk.container] + inside(up, ("Container", lk.container), ev.date)))
            kind = "RETURNED_IN" if ev.kind in ("RETURNED_IN", "DESTROYED") else "SHIPPED_IN"
            acc[(kind, ev.target, ev.container)] = [kind, ev.target, ev.container, ev.date, qty]
        out[item] = [tuple(v) for v in acc.values()]
    return out


def _status(hist: list[list[Any]], kinds: dict[str, str | None]) -> tuple[str, str | None]:
    """The as-of rule at the end of time: the latest shipment decides (delivered -> the
    destination's kind, else in transit); a return dated on or after it wins."""
    ships = [e for e in hist if e[0] == "SHIPPED_IN" and e[2]]
    rets = [e for e in hist if e[0] == "RETURNED_IN" and e[2]]
    last_ship = max(ships, key=lambda e: (str(e[2]), str(e[3] or ""), str(e[1]))) if ships else None
    last_ret = max(rets, key=lambda e: (str(e[2]), str(e[1]))) if rets else None
    if last_ret is not None and (last_ship is None or str(last_ret[2]) >= str(last_ship[2])):
        return ("destroyed" if last_ret[5] == "destroyed" else "returned"), last_ret[4]
    if last_ship is not None:
        if last_ship[3]:
            return ("at_distributor" if kinds.get(last_ship[4]) == "distributor" else "at_end_user"), last_ship[4]
        return "in_transit", last_ship[4]
    return "in_stock", None


def _split(ids: dict[str, set[str]]) -> dict[str, list[str]]:
    return {"serials": sorted(ids.get("Serial", ())), "containers": sorted(ids.get("Container", ())),
            "batches": sorted(ids.get("Batch", ())), "lots": sorted(ids.get("MaterialLot", ()))}


def _link(r: dict[str, Any]) -> Link:
    return Link((r["l"], r["id"]), r["k"], r["f"] or "", r["t"] or END, r["q"])


def gather(store: GraphStore, touched: set[str]) -> tuple[set[Item], list[Link], list[ContainerEvent], dict[str, Any]]:
    """The items to re-derive and everything their derivation needs (a few reads per tree level)."""
    links: dict[tuple[Item, str, str], Link] = {}
    boxes: set[str] = set(touched)
    items: set[Item] = set()
    frontier = set(touched)
    while frontier:  # down: every container and item ever inside the touched ones
        rows = store.read("containment.children", ids=sorted(frontier))
        frontier = set()
        for r in rows:
            lk = _link(r)
            links[(lk.child, lk.container, lk.start)] = lk
            items.add(lk.child)
            if r["l"] == "Container" and r["id"] not in boxes:
                boxes.add(r["id"])
                frontier.add(r["id"])
    # and the units last derived to be in one of them: one whose link into it was removed since
    # (an error declaration, a late packing event) is no longer its child, yet its `container_id`
    # and derived shipments still name it
    for r in store.read("containment.boxed_units", ids=sorted(boxes)):
        items.add(("Serial", r["id"]))
    ask: set[Item] = set(items) | {("Container", b) for b in boxes}
    asked: set[Item] = set()
    while ask:  # up: every container those were ever in (their shipments reach them too)
        by: dict[str, set[str]] = defaultdict(set)
        for lbl, i in ask:
            by[lbl].add(i)
        asked |= ask
        rows = store.read("containment.parents", **_split(by))
        ask = set()
        for r in rows:
            lk = _link(r)
            links[(lk.child, lk.container, lk.start)] = lk
            parent = ("Container", r["k"])
            boxes.add(r["k"])
            if parent not in asked:
                ask.add(parent)
    events: list[ContainerEvent] = []
    info: dict[str, Any] = {}
    if boxes:
        for r in store.read("containment.events", ids=sorted(boxes)):
            info[r["id"]] = r
            for kind, target, date, disp, cust in r["evs"]:
                if date:
                    events.append(ContainerEvent(r["id"], kind, target, date, disp, cust))
            if r.get("destroyed_at"):
                events.append(ContainerEvent(r["id"], "DESTROYED", f"DESTROY:{r['id']}:{r['destroyed_at']}",
                                             r["destroyed_at"], "destroyed"))
    items |= {("Container", b) for b in boxes}
    return items, list(links.values()), events, info


def _histories(store: GraphStore, serials: list[str], containers: list[str]) -> Iterator[dict[str, Any]]:
    """`containment.history` (one row per item) read READ_KEYS items at a time: the reply for
    every unit of a big import at once was the largest thing the derivation held."""
    for i in range(0, len(serials), READ_KEYS):
        yield from store.read("containment.history", serials=serials[i:i + READ_KEYS], containers=[])
    for i in range(0, len(containers), READ_KEYS):
        yield from store.read("containment.history", serials=[], containers=containers[i:i + READ_KEYS])


def derive(store: GraphStore, actor: Actor, touched: set[str] | list[str], *, import_id: str,
           clock: Clock | None = None, dry: bool = False, progress: Progress | None = None,
           recheck: set[str] | None = None) -> Derived:
    """Re-derive everything inside the `touched` containers and write it (see the module doc).
    Everything ever inside the `recheck` containers has its status classified again even when no
    derived link of its own is left (an erroneous shipment of its case undone, loaders/epcis_retract.py)."""
    clock = clock or SystemClock()
    res = Derived()
    touched = {t for t in touched if t}
    if not touched:
        return res
    items, links, events, _info = gather(store, touched | set(recheck or ()))
    forced = gather(store, set(recheck))[0] if recheck else set()
    facts = derive_facts(links, events)
    real_returns = {ev.target: ev for ev in events if ev.kind == "RETURNED_IN"}
    by: dict[str, set[str]] = defaultdict(set)
    for lbl, i in items:
        by[lbl].add(i)
    # histories (own edges) and current status of units and containers, and customer kinds
    hist: dict[Item, list[list[Any]]] = {}
    cur: dict[Item, tuple[Any, Any]] = {}
    cur_box: dict[Item, str | None] = {}
    had_derived: set[Item] = set()
    for r in _histories(store, sorted(by.get("Serial", ())), sorted(by.get("Container", ()))):
        key = (r["l"], r["id"])
        hist[key] = [e for e in r["h"] if e is not None and e[6] is None]
        cur[key] = (r["status"], r["customer"])
        cur_box[key] = r.get("box")
        if any(e is not None and e[6] is not None for e in r["h"]):
            had_derived.add(key)
    # the holder at a destruction: where the item was just before it
    ship_meta: dict[str, tuple[Any, Any]] = {}
    custs: set[str] = set()
    for r in store.read("containment.shipments", ids=sorted({f[1] for fs in facts.values() for f in fs
                                                              if f[0] == "SHIPPED_IN"})):
        ship_meta[r["id"]] = (r["delivered_at"], r["customer_id"])
        if r["customer_id"]:
            custs.add(r["customer_id"])
    for h in hist.values():
        custs.update(e[4] for e in h if e[4])
    kinds = {r["id"]: r["kind"] for r in store.read("containment.customer_kinds", ids=sorted(custs))} if custs else {}
    returns: dict[str, dict[str, Any]] = {}
    # each unit's container now (`container_id`: what the graph engine's answers name)
    boxes_now = now_boxes(links)
    moved = {k for k in cur if k[0] == "Serial" and boxes_now.get(k) != cur_box.get(k)}
    plan: list[tuple[Item, list[tuple[str, str, str, str, float]], PlanRow | None]] = []
    n_status = 0
    for key in sorted(set(facts) | had_derived | (forced & set(cur)) | moved):
        fs = facts.get(key, [])
        full = list(hist.get(key, []))
        for kind, target, via, date, _q in fs:
            if kind == "SHIPPED_IN":
                dl, cu = ship_meta.get(target, (None, None))
                full.append([kind, target, date, dl, cu, None, via])
        for kind, target, via, date, _q in fs:
            if kind == "RETURNED_IN" and target in real_returns:  # the container came back
                ev = real_returns[target]
                full.append([kind, target, date, None, ev.customer, ev.disposition, via])
            elif kind == "RETURNED_IN":  # destroyed where it was: a Return record of the destruction
                before = [e for e in full if str(e[2]) < date]
                _st, holder = _status(before, kinds)
                returns.setdefault(target, {"id": target, "date": date, "customer_id": holder,
                                            "disposition": "destroyed"})
                full.append([kind, target, date, None, holder, "destroyed", via])
        status: tuple[str, str | None] | None = None
        if key[0] in ("Serial", "Container") and key in cur and (fs or key in had_derived or key in forced):
            st, cu = cur[key]
            directly_destroyed = st == "destroyed" and not any(e[0] == "RETURNED_IN" for e in full)
            if st not in KEEP:
                new = _status(full, kinds)
                if directly_destroyed:  # its own event destroyed it: the status stays, the holder is
                    new = ("destroyed", new[1])  # where it was (as when the events came one at a time)
                status = None if new == (st, cu) else new
        row: PlanRow | None = None
        if status is not None:
            n_status += 1
            row = (status[0], status[1], boxes_now.get(key))
        elif key in moved:  # only its container changed: the status and holder stay
            row = (cur[key][0], cur[key][1], boxes_now.get(key))
        plan.append((key, fs, row))
    res.items = len(plan)
    res.ships = sum(1 for _k, fs, _s in plan for f in fs if f[0] == "SHIPPED_IN")
    res.returns = sum(1 for _k, fs, _s in plan for f in fs if f[0] == "RETURNED_IN")
    res.statuses = n_status
    res.containers = sorted(by.get("Container", ()))
    if dry:
        return res
    for start in range(0, len(plan), CHUNK):
        if progress:
            progress("derive", start // CHUNK, -(-len(plan) // CHUNK))
        _write(store, actor, clock, import_id, plan[start:start + CHUNK], returns)
    return res


def derive_all(store: GraphStore, actor: Actor, *, import_id: str, clock: Clock | None = None,
               progress: Progress | None = None) -> Derived:
    """Re-derive every container's contents: after a run that was finished from its commit log
    (`--resume`, automatic recovery), where which containers it touched is no longer known. A
    plant without containers reads one empty list. The containers an EPCIS error declaration took
    a shipment or return from (`recheck` rows of the run's `epcis.tx_retract` log steps,
    loaders/epcis_retract.py) have their contents' status classified again, as the run would have."""
    import json

    ids = {r["id"] for r in store.read("containment.all_containers")}
    recheck = {str(r["f"]) for st in store.read("imports.log_list", import_id=import_id)
               if st["query"] == "epcis.tx_retract" for r in json.loads(st["payload"] or "[]")
               if isinstance(r, dict) and r.get("kind") == "recheck"} if ids else set()
    return derive(store, actor, ids, import_id=import_id, clock=clock, progress=progress,
                  recheck=recheck & ids) if ids else Derived()


def _write(store: GraphStore, actor: Actor, clock: Clock, import_id: str,
           chunk: list[tuple[Item, list[tuple[str, str, str, str, float]], PlanRow | None]],
           returns: dict[str, dict[str, Any]]) -> None:
    ids: dict[str, set[str]] = defaultdict(set)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rets: dict[str, dict[str, Any]] = {}
    for (lbl, i), fs, status in chunk:
        ids[lbl].add(i)
        for kind, target, via, _date, qty in fs:
            pre = "ship" if kind == "SHIPPED_IN" else "ret"
            if lbl == "MaterialLot":
                continue  # a material lot shipped inside a container: its packing is on record, no edge type for it
            rows[f"{pre}_{lbl.lower()}"].append({"f": i, "t": target, "via": via, "qty": qty})
            if kind == "RETURNED_IN" and target in returns:
                rets[target] = returns[target]
        if status is not None:
            row = {"id": i, "status": status[0], "customer": status[1]}
            if lbl == "Serial":
                row["box"] = status[2]
            rows[f"status_{lbl.lower()}"].append(row)
    params: dict[str, Any] = {**_split(ids), "returns": list(rets.values()), "now": iso(clock.now())}
    for name in ("ship_serial", "ship_container", "ship_batch", "ret_serial", "ret_container", "ret_batch",
                 "status_serial", "status_container"):
        params[name] = rows.get(name, [])
    n_items = sum(len(v) for v in ids.values())
    spec = AuditSpec(action="containment.derive", target_label="ImportRun", target_key=import_id, changes=[
        Change("items", None, n_items, state=False),
        Change("derived shipments", None, sum(len(params[k]) for k in ("ship_serial", "ship_container", "ship_batch")),
               state=False),
        Change("derived returns", None, sum(len(params[k]) for k in ("ret_serial", "ret_container", "ret_batch")),
               state=False),
        Change("statuses", None, [[r["id"], r["status"], r["customer"]] for k in ("status_serial", "status_container")
                                  for r in params[k]][:200], state=False),
        Change("units' containers", None, [[r["id"], r["box"]] for r in params["status_serial"]][:200], state=False),
    ], reason="contents follow their container")

    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        # seal what the statement writes and drop what it replaces (read after the audit head)
        led = Ledger()
        for lbl, keys in ids.items():
            for r in store.read(f"containment.derived_seals_{lbl}", ids=sorted(keys)):
                led.drop(r["q"], r["s"])
        have = set(current_lines(store, "Return", [r["id"] for r in params["returns"]]))
        p = dict(params)
        p["returns"] = [{**r, "seal": None if r["id"] in have else node_seal("Return", r)} for r in params["returns"]]
        for r in p["returns"]:
            if r["seal"] is not None:
                led.add(r["seal"])
        for name, frm, etype, to in (("ship_serial", "Serial", "SHIPPED_IN", "Shipment"),
                                     ("ship_container", "Container", "SHIPPED_IN", "Shipment"),
                                     ("ship_batch", "Batch", "SHIPPED_IN", "Shipment"),
                                     ("ret_serial", "Serial", "RETURNED_IN", "Return"),
                                     ("ret_container", "Container", "RETURNED_IN", "Return"),
                                     ("ret_batch", "Batch", "RETURNED_IN", "Return")):
            t = (frm, etype, to)
            sealed = t in EDGE_FIELDS
            p[name] = [{**r, "seal": edge_seal(t, r["f"], r["t"], {"qty": r["qty"]}) if sealed else None}
                       for r in params[name]]
            led.add_all(r["seal"] for r in p[name] if r["seal"] is not None)
        new = reseal(store, "Serial", {r["id"]: {"status": r["status"], "customer_id": r["customer"],
                                                 "container_id": r["box"]} for r in params["status_serial"]}, led)
        p["status_serial"] = [{**r, "seal": new.get(r["id"])} for r in params["status_serial"]]
        return p, AuditSpec(action=spec.action, target_label=spec.target_label, target_key=spec.target_key,
                            changes=with_ledger(list(spec.changes), led), reason=spec.reason)

    audited_write(store, "containment.apply", prepare, actor, clock=clock)


__all__ = ["Link", "ContainerEvent", "Derived", "PlanRow", "derive", "derive_all", "derive_facts", "inside", "gather",
           "now_boxes", "CHUNK"]
