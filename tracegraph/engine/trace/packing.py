"""Packing intervals and the chain of containers holding a unit at a time: the data both impact
engines hand to the containers step (engine/trace/containers.py).

Why a module of its own, below both: the trace index (engine/trace/index.py) builds one for the
whole plant "now" and the graph engine's containers step reads one for the units of an answer;
one class and one rule (`_at`) for both keeps their answers equal by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

END = "\uffff"
#: nesting deeper than this is taken as a packing loop (bad data): the chain stops there
MAX_DEPTH = 64

Interval = tuple[str, str, str]  # (container, from, to); from '' when unknown, to END while packed


def _at(intervals: list[Interval], t: str) -> str | None:
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
    case shares it). The index builds one at t = END ("now") and fills every chain up front
    (`complete`), so concurrent answers only read it."""

    up: dict[str, list[Interval]]
    info: dict[str, dict[str, Any]]
    t: str = END
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: unit -> (innermost container, *its chain), for every unit packed at t (filled by `complete`)
    units: dict[str, tuple[str, ...]] | None = None

    def chain(self, box: str) -> tuple[str, ...]:
        got = self.chains.get(box)
        if got is None:
            out: list[str] = []
            cur, seen = box, {box}
            while len(out) < MAX_DEPTH:
                nxt = _at(self.up.get(cur, []), self.t)
                if nxt is None or nxt in seen:
                    break
                out.append(nxt)
                seen.add(nxt)
                cur = nxt
            got = self.chains[box] = tuple(out)
        return got

    def unit_chain(self, uid: str) -> tuple[str, ...]:
        """(innermost container, *the containers above it) holding unit `uid` at t; () when loose."""
        if self.units is not None:
            return self.units.get(uid, ())
        ivs = self.up.get(uid)
        inner = _at(ivs, self.t) if ivs else None
        return () if inner is None else (inner, *self.chain(inner))

    def complete(self, unit_ids: Iterable[str]) -> Packing:
        """Every chain computed now (for a shared, read-only copy: the index's)."""
        for k in self.info:
            self.chain(k)
        units: dict[str, tuple[str, ...]] = {}
        for uid in unit_ids:
            c = self.unit_chain(uid)
            if c:
                units[uid] = c
        self.units = units
        return self


__all__ = ["END", "MAX_DEPTH", "Interval", "Packing"]
