"""Packing intervals, the chain of containers holding a unit at a time, and the containers of an
answer: what both impact engines hand to the containers step (engine/trace/containers.py).

Why a module of its own, below both: the trace index (engine/trace/index.py) builds one for the
whole plant "now" and the graph engine's containers step reads one for the units of an answer;
one class, one rule (`open_at`) and one builder of the container rows (`listed`) for both keep their
answers equal by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np

from tracegraph.engine.trace.fast import build_models
from tracegraph.engine.trace.models import AffectedContainer, AffectedSerial

END = "\uffff"
#: nesting deeper than this is taken as a packing loop (bad data): the chain stops there
MAX_DEPTH = 64

Interval = tuple[str, str, str]  # (container, from, to); from '' when unknown, to END while packed


def open_at(intervals: list[Interval], t: str) -> str | None:
    """The container of the latest interval open at t (from <= t < to); two opened at the same
    time: the greater container id (any rule works, but one rule for both engines)."""
    if len(intervals) == 1:  # most units were packed once: no list to build
        k, f, to = intervals[0]
        return k if f <= t and (to == END or t < to) else None
    live = [iv for iv in intervals if iv[1] <= t and (iv[2] == END or t < iv[2])]
    return max(live, key=lambda iv: (iv[1], iv[0]))[0] if live else None


@dataclass
class Packing:
    """Packing intervals by child id (units and containers alike) and the containers' SSCC and kind.

    `chain(box)` is the containers holding `box` at `t`, outermost last (memoised: every unit of a
    case shares it). The index builds one at t = END ("now") with every chain computed up front
    (`complete`), so concurrent answers only read it, and keeps each unit's innermost container
    as one int32 code per index node (`node_box`) instead of a dict of unit ids (at 1M units the
    dict would be ~100 MB)."""

    up: dict[str, list[Interval]]
    info: dict[str, dict[str, Any]]
    t: str = END
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: index only: per index node, the code (position in `boxes`) of the unit's innermost
    #: container now, -1 when loose; `lookup` is the index's unit id -> node
    node_box: np.ndarray | None = None
    boxes: list[str] = field(default_factory=list)
    lookup: dict[str, int] | None = None
    #: `boxes` as an object array with None last, so `names[node_box[nodes]]` names them all
    names: np.ndarray | None = None

    def chain(self, box: str) -> tuple[str, ...]:
        got = self.chains.get(box)
        if got is None:
            out: list[str] = []
            cur, seen = box, {box}
            while len(out) < MAX_DEPTH:
                nxt = open_at(self.up.get(cur, []), self.t)
                if nxt is None or nxt in seen:
                    break
                out.append(nxt)
                seen.add(nxt)
                cur = nxt
            got = self.chains[box] = tuple(out)
        return got

    def inner(self, uid: str) -> str | None:
        """The innermost container holding unit `uid` at t (None when loose)."""
        if self.node_box is not None and self.lookup is not None:
            n = self.lookup.get(uid)
            c = -1 if n is None else int(self.node_box[n])
            return self.boxes[c] if c >= 0 else None
        ivs = self.up.get(uid)
        return open_at(ivs, self.t) if ivs else None

    def unit_chain(self, uid: str) -> tuple[str, ...]:
        """(innermost container, *the containers above it) holding unit `uid` at t; () when loose."""
        inner = self.inner(uid)
        return () if inner is None else (inner, *self.chain(inner))

    def complete(self, unit_ids: Iterable[str], lookup: dict[str, int], n_nodes: int) -> Packing:
        """Every chain computed now and each unit's innermost container as a node code (the
        index's shared, read-only copy); the units' own intervals are dropped afterwards."""
        for k in self.info:
            self.chain(k)
        code: dict[str, int] = {}
        node_box = np.full(n_nodes, -1, np.int32)
        for uid in unit_ids:
            n = lookup.get(uid)
            box = self.inner(uid)
            if n is None or box is None:
                continue
            c = code.get(box)
            if c is None:
                c = code[box] = len(self.boxes)
                self.boxes.append(box)
                self.chain(box)
            node_box[n] = c
            if uid not in self.info:
                self.up.pop(uid, None)
        self.node_box, self.lookup = node_box, lookup
        self.names = np.array([*self.boxes, None], dtype=object)
        return self

    def nbytes(self) -> int:
        return int(self.node_box.nbytes) if self.node_box is not None else 0


def listed(packing: Packing, serials: list[AffectedSerial], by_inner: dict[str, list[int]]) -> list[AffectedContainer]:
    """The containers holding the listed units, outermost first: each with its affected units at
    any depth (`by_inner`: innermost container -> positions in `serials`, which are in id order,
    so positions in ascending order give the ids in order) and their most common place (ties:
    the smaller place as text, one rule for both engines).

    Why written this way: a supplier-wide answer lists ~700 containers over ~6k units, and the
    per-container Python overhead was most of the containers step (16 ms at 100k serials); the
    places are read with C-level itemgetters, a container whose units are all in one place (the
    common case) is told by one `list.count`, the others counted in a plain dict, and the models are built in one call."""
    chain_of = packing.chain
    members: dict[str, list[int]] = {}
    for inner, idx in by_inner.items():
        for k in (inner, *chain_of(inner)):
            got = members.get(k)
            if got is None:
                members[k] = list(idx)
            else:
                got.extend(idx)
    if not members:
        return []
    dicts = [s.__dict__ for s in serials]
    ids = list(map(itemgetter("id"), dicts))
    place = list(map(itemgetter("status", "customer"), dicts))
    info = packing.info
    keys: list[tuple[int, str]] = []
    rows: list[dict[str, Any]] = []
    for k, idx in members.items():
        idx.sort()  # several inner containers' runs: timsort merges them
        places = list(map(place.__getitem__, idx))
        first = places[0]
        if places.count(first) == len(places):  # the common case: a case's units are all in one place
            st, cu = first
        else:
            n: dict[tuple[str, str | None], int] = {}
            for p in places:
                n[p] = n.get(p, 0) + 1
            top = max(n.values())
            tied = [p for p, c in n.items() if c == top]
            st, cu = tied[0] if len(tied) == 1 else min(tied, key=str)
        above = chain_of(k)
        row = info.get(k) or {}
        keys.append((len(above), k))
        rows.append({"id": k, "sscc": row.get("sscc"), "kind": row.get("kind"), "parent": above[0] if above else None,
                     "units": len(idx), "unit_ids": list(map(ids.__getitem__, idx)), "status": st, "customer": cu})
    models = build_models(AffectedContainer, rows)  # valid values: no re-validation
    return [models[i] for i in sorted(range(len(keys)), key=keys.__getitem__)]


__all__ = ["END", "MAX_DEPTH", "Interval", "Packing", "listed", "open_at"]
