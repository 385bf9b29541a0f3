"""Containers in an impact answer: which case or pallet holds each affected unit at the answer's
date, which container's shipment put it where it is, and every customer that held it.

Why a step of its own, run on the finished answer of either engine (impact.py calls it for the
graph's answer and the trace index's alike): the derived edges (engine/imports/containment.py)
already put every unit where its container went, so the totals need nothing from here; what a
coordinator still needs is what the warehouse looks for (an SSCC, not a serial) and who passed
units on (a recall notifies the distributor too). Both engines feed the same `Packing` to the same
code, so their answers are equal by construction; only where the packing comes from differs:
- the graph engine reads it for the listed units (`read_packing`): nothing at all on a plant
  without containers (one label probe, asked in the same round trip as the answer's assemblies),
  else the units' links through their producing batches (a batch's units in one hop; looking each
  unit up by id cost ~3 us a unit, ~18 ms for a supplier-wide answer), grouped by container and
  interval, and the containers' chain above them two levels a statement (a case plant's lot answer:
  two round trips where it took four);
- the trace index keeps the open packing links of every unit and container, with each one's
  chain "now" computed at build time (engine/trace/index.py), so its answers ("now" only: the
  index declines "as of" and history) read nothing more from the database.
`via` and `holders` come with the history, like `shipment` and `date` (one read of the units'
carriers), on the graph engine only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tracegraph.engine.stores.base import GraphStore
from tracegraph.engine.trace.fast import read_fast, read_fast_many
from tracegraph.engine.trace.models import ImpactResult
from tracegraph.engine.trace.packing import END, MAX_DEPTH, Interval, Packing, listed, open_at

RS = "\x1e"  # keys never hold control characters


@dataclass
class UnitReads:
    """What the graph engine read, in its own round trips, for the containers step: batch -> the
    units it PRODUCED and whether the plant has any container (`trace.any_container`, asked with
    the assemblies: None when not asked). Saves the containers step a round trip on every plant."""

    produced: dict[str, list[str]] = field(default_factory=dict)
    any_container: bool | None = None


#: the probe a caller adds to its own round trip (its answer goes in `UnitReads.any_container`)
PROBE: tuple[str, dict[str, Any]] = ("trace.any_container", {})


def read_packing(store: GraphStore, sids: list[str], t: str, reads: UnitReads | None = None) -> Packing | None:
    """The packing of the units `sids` and of every container above them, from the graph; None
    when the graph has no container at all (the common loose plant: one label probe, unless
    `reads` already holds its answer).

    Units listed in `reads.produced` are read through their batch (one hop each), the others by id;
    both come back grouped by container and interval. Then the chain above, two levels a statement."""
    reads = reads or UnitReads()
    probe = reads.any_container
    if probe is None:
        probe = bool(read_fast(store, PROBE[0]))
    if not probe:
        return None
    wanted = set(sids)
    by_batch: list[str] = []
    covered: set[str] = set()
    for bid, units in reads.produced.items():
        hit = wanted.intersection(units)
        if hit:
            by_batch.append(bid)
            covered |= hit
    rest = [s for s in sids if s not in covered]
    calls: list[tuple[str, dict[str, Any]]] = []
    if by_batch:
        calls.append(("trace.batch_unit_packing", {"bids": sorted(by_batch)}))
    if rest:
        calls.append(("trace.unit_packing", {"blob": RS.join(rest), "rs": RS}))
    up: dict[str, list[Interval]] = defaultdict(list)
    boxes: set[str] = set()
    for rows in read_fast_many(store, calls):
        for r in rows:
            k = r["k"]
            iv = (k, r["f"] or "", r["t"] or END)
            boxes.add(k)
            for uid in r["ss"]:
                if uid in wanted:
                    up[uid].append(iv)
    info: dict[str, dict[str, Any]] = {}
    level = sorted(boxes)
    for _ in range(0, MAX_DEPTH, 2):
        if not level:
            break
        this = set(level)
        above: set[str] = set()
        seen: set[tuple[str, str, str, str]] = set()  # (child, parent, from, to): rows repeat per up2
        for r in read_fast(store, "trace.container_level", blob=RS.join(level), rs=RS):
            k, o = r["id"], r["up"]
            info[k] = {"sscc": r["sscc"], "kind": r["kind"]}
            if o is None:
                continue
            link = (k, o, r["f"] or "", r["t"] or END)
            if link not in seen:
                seen.add(link)
                up[k].append(link[1:])
            if o in this:
                continue  # its own rows give its links
            info[o] = {"sscc": r["usscc"], "kind": r["ukind"]}  # and ITS links: every up2 row
            if r["up2"] is not None:
                link = (o, r["up2"], r["f2"] or "", r["t2"] or END)
                if link not in seen:
                    seen.add(link)
                    up[o].append(link[1:])
                above.add(r["up2"])
        level = sorted(above - info.keys())
    return Packing(up, info, t)


def attach(store: GraphStore, result: ImpactResult, bound: str | None, *, history: bool = False,
           packing: Packing | None = None, indexed: bool = False,
           reads: UnitReads | None = None) -> ImpactResult:
    """Fill `containers` and each listed unit's `container` (in place); with `history` (as the
    unit's `shipment`/`date` are: as-of, with_history, the regulator sheet) also `via`, `holders`
    and, for units a container carried, the shipment and date.

    `indexed`: `packing` is the trace index's ("now", None when the plant has no container);
    otherwise it is read from the graph (`reads` as in `read_packing`)."""
    serials = result.serials
    result.containers = []
    t = bound or END
    if indexed:
        if history or t != END:
            raise ValueError("the trace index holds the packing now, not its history")
        if packing is None:  # no container in the plant
            return result
        # the index's builder already set each unit's `container`: only the grouping is left
        by_inner: dict[str, list[int]] = {}
        for i, s in enumerate(serials):
            inner = s.__dict__["container"]
            if inner is not None:
                got = by_inner.get(inner)
                if got is None:
                    by_inner[inner] = [i]
                else:
                    got.append(i)
        result.containers = listed(packing, serials, by_inner)
        return result
    if serials:
        packing = read_packing(store, [s.id for s in serials], t, reads)
    if packing is None:  # no container in the plant: the builders set the defaults already
        return result
    hist: dict[str, list[list[Any]]] = defaultdict(list)
    if history:
        for h in read_fast(store, "trace.unit_carriers", sids=[s.id for s in serials])[0]["h"]:
            hist[h[0]].append(h)
    # units by their innermost container (positions in `serials`, which are sorted by id)
    by_inner = {}
    up = packing.up
    for i, s in enumerate(serials):
        d = s.__dict__
        ivs = up.get(d["id"])
        if ivs is not None:
            if len(ivs) == 1:  # packed once (most units): Packing's rule inlined, 30k units
                k, f, to = ivs[0]
                inner = k if f <= t and (to == END or t < to) else None
            else:
                inner = open_at(ivs, t)
            if inner is not None:
                d["container"] = inner
                got = by_inner.get(inner)
                if got is None:
                    by_inner[inner] = [i]
                else:
                    got.append(i)
        if hist:
            _history(d, hist.get(d["id"], []), t)
    result.containers = listed(packing, serials, by_inner)
    return result


def _history(d: dict[str, Any], h: list[list[Any]], t: str) -> None:
    """A unit's `via` (the container whose shipment put it where it is), `holders` and, when a
    container carried it, its shipment and date, from its carriers up to `t`."""
    h = [e for e in h if e[3] and str(e[3]) <= t]
    if not h:
        return
    last = max(h, key=lambda e: (str(e[3]), e[1] == "RETURNED_IN", str(e[4] or ""), str(e[2])))
    d["via"] = last[6]
    if d.get("shipment") is None and last[6] is not None:
        d["shipment"], d["date"] = last[2], last[3]
    held: list[str] = []
    for e in sorted((e for e in h if e[1] == "SHIPPED_IN" and e[4] and str(e[4]) <= t and e[5]),
                    key=lambda e: (str(e[4]), str(e[2]))):
        if not held or held[-1] != e[5]:
            held.append(e[5])
    d["holders"] = held


__all__ = ["PROBE", "UnitReads", "attach", "read_packing"]
