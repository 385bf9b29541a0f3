"""Containers in an impact answer: which case or pallet holds each affected unit at the answer's
date, which container's shipment put it where it is, and every customer that held it.

Why a step of its own, run on the finished answer of either engine (impact.py calls it for the
graph's answer and the trace index's alike): the derived edges (engine/imports/containment.py)
already put every unit where its container went, so the totals need nothing from here; what a
coordinator still needs is what the warehouse looks for (an SSCC, not a serial) and who passed
units on (a recall notifies the distributor too). Reading it once for the listed units keeps the
two engines' answers equal by construction. Without the history (the default answer) it costs
one indexed read of the units' packing links and one of the containers' chain above them;
`via` and `holders` come with the history, like `shipment` and `date`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from tracegraph.engine.stores.base import GraphStore
from tracegraph.engine.trace.fast import build_model, read_fast, read_fast_many
from tracegraph.engine.trace.models import AffectedContainer, ImpactResult

END = "\uffff"
RS = "\x1e"  # keys never hold control characters
US = "\x1f"


def _at(intervals: list[tuple[str, str, str]], t: str) -> str | None:
    """The container of the latest interval open at t (from <= t < to)."""
    if len(intervals) == 1:  # most units were packed once: no list to build
        k, f, to = intervals[0]
        return k if (f or "") <= t and (to in (None, END) or t < to) else None
    live = [iv for iv in intervals if (iv[1] or "") <= t and (iv[2] in (None, END) or t < iv[2])]
    return max(live, key=lambda iv: iv[1] or "")[0] if live else None


def attach(store: GraphStore, result: ImpactResult, bound: str | None, *, history: bool = False) -> ImpactResult:
    """Fill `containers` and each listed unit's `container` (in place); with `history` (as the
    unit's `shipment`/`date` are: as-of, with_history, the regulator sheet) also `via`, `holders`
    and, for units a container carried, the shipment and date."""
    sids = [s.id for s in result.serials]
    result.containers = []
    for s in result.serials:  # the fast builders skip defaults: every unit gets the fields
        s.__dict__.update(container=None, via=None, holders=[])  # no pydantic __setattr__: 30k units
    if not sids:
        return result
    any_box, packing = read_fast_many(store, [("trace.any_container", {}),
                                              ("trace.unit_packing", {"blob": RS.join(sids), "rs": RS, "us": US})])
    if not any_box:
        return result
    up: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for link in (packing[0]["links"] if packing else None) or ():
        uid, k, f, to = link.split(US)
        up[uid].append((k, f, to or END))
    packed = set(up)
    t = bound or END
    info: dict[str, dict[str, Any]] = {}
    inner_boxes = sorted({k for ivs in up.values() for k, _f, _t in ivs})
    # the containers' own packing, up to the outermost, in one statement
    for r in read_fast(store, "trace.container_packing", ids=inner_boxes) if inner_boxes else ():
        info[r["id"]] = r
        for o, f, to in r["up"]:
            up[r["id"]].append((o, f or "", to or END))
    hist: dict[str, list[list[Any]]] = defaultdict(list)
    wanted = sids if history else []
    if wanted:
        for h in read_fast(store, "trace.unit_carriers", sids=wanted)[0]["h"]:
            hist[h[0]].append(h)
    members: dict[str, list[str]] = defaultdict(list)
    parent: dict[str, str | None] = {}
    chains: dict[str, list[str]] = {}

    def box_chain(box: str) -> list[str]:
        """The containers `box` is in at t, innermost first (shared by all its units)."""
        got = chains.get(box)
        if got is None:
            got, cur = [], box
            while len(got) < 64:
                nxt = _at(up.get(cur, []), t)
                if nxt is None or nxt == box or nxt in got:
                    break
                got.append(nxt)
                cur = nxt
            chains[box] = got
            parent[box] = got[0] if got else None
            for i, k in enumerate(got):
                parent[k] = got[i + 1] if i + 1 < len(got) else None
        return got

    for s in result.serials:
        if s.id not in packed and not hist:
            continue
        d = s.__dict__
        if s.id in packed:
            inner = _at(up.get(s.id, []), t)
            if inner is not None:
                chain = [inner, *box_chain(inner)]
                d["container"] = inner
                for k in chain:
                    members[k].append(s.id)
        h = [e for e in hist.get(s.id, []) if e[3] and str(e[3]) <= t]
        if h:
            last = max(h, key=lambda e: (str(e[3]), e[1] == "RETURNED_IN", str(e[4] or ""), str(e[2])))
            d["via"] = last[6]
            if s.shipment is None and last[6] is not None:
                d["shipment"], d["date"] = last[2], last[3]
            held: list[str] = []
            for e in sorted((e for e in h if e[1] == "SHIPPED_IN" and e[4] and str(e[4]) <= t and e[5]),
                            key=lambda e: (str(e[4]), str(e[2]))):
                if not held or held[-1] != e[5]:
                    held.append(e[5])
            d["holders"] = held
    by_id = {s.id: s for s in result.serials}
    out: list[tuple[int, AffectedContainer]] = []
    for k, units in members.items():
        place = Counter((by_id[u].status, by_id[u].customer) for u in units).most_common()
        st, cu = min(place, key=lambda p: (-p[1], str(p[0])))[0]
        depth, p = 0, parent.get(k)
        while p is not None and depth < 64:
            depth, p = depth + 1, parent.get(p)
        row = info.get(k, {})
        out.append((depth, build_model(AffectedContainer, {  # valid values: no re-validation of the id lists
            "id": k, "sscc": row.get("sscc"), "kind": row.get("kind"), "parent": parent.get(k), "units": len(units),
            "unit_ids": sorted(units), "status": st, "customer": cu})))
    out.sort(key=lambda x: (x[0], x[1].id))
    result.containers = [c for _d, c in out]
    return result


__all__ = ["attach"]
