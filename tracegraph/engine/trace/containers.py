"""Containers in an impact answer: which case or pallet holds each affected unit at the answer's
date, which container's shipment put it where it is, and every customer that held it.

Why a step of its own, run on the finished answer of either engine (impact.py calls it for the
graph's answer and the trace index's alike): the derived edges (engine/imports/containment.py)
already put every unit where its container went, so the totals need nothing from here; what a
coordinator still needs is what the warehouse looks for (an SSCC, not a serial) and who passed
units on (a recall notifies the distributor too). Both engines feed the same `Packing` to the same
code, so their answers are equal by construction; only where the packing comes from differs:
- the graph engine reads nothing at all on a plant without containers (one label probe, asked in
  the same round trip as the answer's assemblies). "Now", each unit's container is its
  `container_id` (written by the containment derivation, engine/imports/containment.py, and read
  with the unit by the forward statement), and only the containers' chain above is read, two
  levels a statement. As of a date, the units' links are read through their producing batches (a
  batch's units in one hop; looking each unit up by id cost ~3 us a unit), grouped by container
  and interval, with two levels of the chain in the same statement;
- the trace index keeps the open packing links of every unit and container, with each one's
  chain "now" computed at build time (engine/trace/index.py), so its answers ("now" only: the
  index declines "as of" and history) read nothing more from the database.
`via` and `holders` come with the history, like `shipment` and `date` (the units' carriers, read
with the graph engine's own history of the units), on the graph engine only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
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
    units it PRODUCED, each listed unit's container now (`box`: its `container_id`, read with the
    unit; `boxed` once every unit of the answer was read so) and whether the plant has any
    container (`trace.any_container`, asked with the assemblies: None when not asked)."""

    produced: dict[str, list[str]] = field(default_factory=dict)
    box: dict[str, str] = field(default_factory=dict)
    boxed: bool = False
    any_container: bool | None = None
    #: the units' shipments and returns with the container that carried them (`via`), as
    #: trace.unit_carriers gives them, when the answer read its units' history (else None)
    carriers: dict[str, list[list[Any]]] | None = None
    #: the containers holding the batches' units now and their `trace.container_level` rows, read
    #: in the assemblies' round trip (`ask`): the first level of the chain, one round trip less
    level: tuple[set[str], list[dict[str, Any]]] | None = None


#: the probe a caller adds to its own round trip (its answer goes in `UnitReads.any_container`)
PROBE: tuple[str, dict[str, Any]] = ("trace.any_container", {})


def read_packing(store: GraphStore, sids: list[str], t: str,
                 reads: UnitReads | None = None) -> tuple[Packing, dict[str, list[int]]] | None:
    """The packing of the units `sids` at `t` and of every container above them, from the graph:
    the containers' links and SSCCs (a `Packing`) and the units by their innermost container at
    `t` (container -> positions in `sids`, ascending); None when the graph has no container at all
    (the common loose plant: one label probe, unless `reads` already holds its answer).

    "Now" (t = END) with the units' `container_id` in `reads` (read with the units, as the
    containment derivation wrote it), only the chain above their containers is read, two levels a
    statement. Else (as of a date) the units' PACKED_IN links are read: through their batch for the
    units of the batches in `reads.produced` (one hop each), by id for the others, grouped by
    container and interval with two levels of containers above. Why the "now" shortcut: a
    supplier-wide answer at 100k serials has ~6k units in ~600 cases, and reading their links
    (~15 ms on the server, as much again in Python) was most of what containers added to it."""
    reads = reads or UnitReads()
    probe = reads.any_container
    if probe is None:
        probe = bool(read_fast(store, PROBE[0]))
    if not probe:
        return None
    up: dict[str, list[Interval]] = defaultdict(list)
    info: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str, str, str]] = set()  # (child, parent, from, to): rows repeat per parent
    if t == END and reads.boxed:
        by_inner = _positions(map(reads.box.get, sids))
        todo = set(by_inner)
        if reads.level is not None:  # read already, with the answer's assemblies
            asked, rows = reads.level
            past: set[str] = set()
            for r in rows:
                _level(r, up, info, seen, past)
            todo = (todo - asked) | (past - info.keys())
        _chains(store, todo, up, info, seen)
        return Packing(up, info, t), by_inner
    pos = {sid: i for i, sid in enumerate(sids)}
    by_batch = [bid for bid, units in reads.produced.items() if not pos.keys().isdisjoint(units)]
    rest = pos.keys() - set().union(*reads.produced.values()) if reads.produced else set(pos)
    calls: list[tuple[str, dict[str, Any]]] = []
    if by_batch:
        calls.append(("trace.batch_unit_packing", {"bids": sorted(by_batch), "rs": RS}))
    if rest:
        calls.append(("trace.unit_packing", {"blob": RS.join(sorted(rest)), "rs": RS}))
    above: set[str] = set()
    # the units' links: (container, from, to) -> positions of its listed units
    groups: dict[Interval, list[int]] = {}
    get = pos.get
    for rows in read_fast_many(store, calls):
        done: set[Interval] = set()  # its units, once (the rows repeat per parent)
        for r in rows:
            key = (r["k"], r["f"] or "", r["t"] or END)
            if key in done:
                continue
            done.add(key)
            j = r["j"]
            idx = [i for i in map(get, j.split(RS)[1:] if j is not None else r["ss"]) if i is not None]
            if idx:  # else units of these batches the answer does not list: not its containers
                got = groups.get(key)
                if got is None:
                    groups[key] = idx
                else:
                    got.extend(idx)
        for r in rows:
            if (r["k"], r["f"] or "", r["t"] or END) in groups:
                _level(r, up, info, seen, above)
    _chains(store, above - info.keys(), up, info, seen)
    return Packing(up, info, t), _innermost(groups, t)


def ask(reads: UnitReads | None, *, now: bool) -> list[tuple[str, dict[str, Any]]]:
    """The reads the graph engine adds to its assemblies' round trip for this step, once its
    batches' units (and their `container_id`, in `reads.box`) are known: whether the plant has any
    container and, for a "now" answer, the containers holding those units with two levels above
    (`trace.container_level`; as of a date the step reads the units' links instead)."""
    if reads is None:
        return []
    inner = set(reads.box.values()) if now else set()
    calls = [PROBE]
    if inner:
        calls.append(("trace.container_level", {"blob": RS.join(sorted(inner)), "rs": RS}))
        reads.level = (inner, [])
    return calls


def take(reads: UnitReads | None, answers: list[list[dict[str, Any]]], asked: list[tuple[str, dict[str, Any]]]) -> None:
    """Take the answers of `ask`'s reads off the end of `answers` into `reads`."""
    if reads is None or not asked:
        return
    mine = answers[len(answers) - len(asked):]
    del answers[len(answers) - len(asked):]
    reads.any_container = bool(mine[0])
    if reads.level is not None and len(mine) > 1:
        reads.level = (reads.level[0], mine[1])


def _positions(boxes: Iterable[str | None]) -> dict[str, list[int]]:
    """Container -> the positions (ascending) of the units it holds directly, from each unit's
    innermost container in answer order (None: loose)."""
    by_inner: dict[str, list[int]] = {}
    for i, b in enumerate(boxes):
        if b is not None:
            got = by_inner.get(b)
            if got is None:
                by_inner[b] = [i]
            else:
                got.append(i)
    return by_inner


def _chains(store: GraphStore, level: set[str], up: dict[str, list[Interval]], info: dict[str, dict[str, Any]],
            seen: set[tuple[str, str, str, str]]) -> None:
    """The containers `level`, their links and every container above them, two levels a statement
    (trace.container_level), into `up` and `info`."""
    todo = sorted(level)
    for _ in range(0, MAX_DEPTH, 2):
        if not todo:
            break
        above: set[str] = set()
        for r in read_fast(store, "trace.container_level", blob=RS.join(todo), rs=RS):
            _level(r, up, info, seen, above)
        todo = sorted(above - info.keys())


def _innermost(groups: dict[Interval, list[int]], t: str) -> dict[str, list[int]]:
    """Container -> positions of the units it holds directly at t, from the units' links grouped
    by (container, from, to). A unit in two links open at t (bad data, or packed twice at once)
    goes by Packing's rule (`open_at`), for both engines alike."""
    by_inner: dict[str, list[int]] = {}
    n = 0
    for (k, f, to), idx in groups.items():
        if f <= t and (to == END or t < to):
            got = by_inner.get(k)
            if got is None:
                by_inner[k] = list(idx)
            else:
                got.extend(idx)
            n += len(idx)
    flat = [i for idx in by_inner.values() for i in idx]
    if len(set(flat)) != n:  # some unit is in two open links: Packing's rule decides
        ivs: dict[int, list[Interval]] = defaultdict(list)
        for key, idx in groups.items():
            for i in idx:
                ivs[i].append(key)
        by_inner = {}
        for i, mine in ivs.items():
            box = open_at(mine, t)
            if box is not None:
                by_inner.setdefault(box, []).append(i)
    for idx in by_inner.values():
        idx.sort()
    return by_inner


def _level(r: dict[str, Any], up: dict[str, list[Interval]], info: dict[str, dict[str, Any]],
           seen: set[tuple[str, str, str, str]], above: set[str]) -> None:
    """One row of a container (`k`), its parent (`up`) and its parent's parent (`up2`): their SSCC
    and kind in `info`, their links in `up` (once each), the containers past `up2` in `above`."""
    k, o = r["k"], r["up"]
    info[k] = {"sscc": r["sscc"], "kind": r["kind"]}
    if o is None:
        return
    link = (k, o, r["f1"] or "", r["t1"] or END)
    if link not in seen:
        seen.add(link)
        up[k].append(link[1:])
    if o not in info:
        info[o] = {"sscc": r["usscc"], "kind": r["ukind"]}
    if r["up2"] is not None:
        link = (o, r["up2"], r["f2"] or "", r["t2"] or END)
        if link not in seen:
            seen.add(link)
            up[o].append(link[1:])
        above.add(r["up2"])


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
        by_inner = _positions(s.__dict__["container"] for s in serials)
        result.containers = listed(packing, serials, by_inner)
        return result
    read = read_packing(store, [s.id for s in serials], t, reads) if serials else None
    if read is None:  # no container in the plant: the builders set the defaults already
        return result
    box_packing, inner_units = read
    for k, idx in inner_units.items():
        for i in idx:
            serials[i].__dict__["container"] = k
    if history:
        hist: dict[str, list[list[Any]]]
        if reads is not None and reads.carriers is not None:  # read with the answer's own history
            hist = reads.carriers
        else:
            hist = defaultdict(list)
            for h in read_fast(store, "trace.unit_carriers", sids=[s.id for s in serials])[0]["h"]:
                hist[h[0]].append(h)
        if hist:
            for s in serials:
                d = s.__dict__
                _history(d, hist.get(d["id"], []), t)
    result.containers = listed(box_packing, serials, inner_units)
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


__all__ = ["PROBE", "UnitReads", "ask", "attach", "read_packing", "take"]
