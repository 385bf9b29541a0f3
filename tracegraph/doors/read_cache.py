"""A per-process cache of whole read answers, keyed by the audit head seq: never stale.

Why it is safe: every business write moves the audit head in the same statement
(engine/audit/chain.py), so a read answer tagged with the head seq read BEFORE it was computed
is the answer for as long as the head stays there; the trace index relies on the same rule
(engine/trace/index.py). An entry of an older head is never served again (the cache is emptied
when the head moves). Writes that bypass the audit chain (a bulk-loaded benchmark plant, test
scaffolding) are invisible to it, as they are to the trace index: `clear()` after them.

Why answers are keyed by the caller's roles, not shared between everyone: what a caller may read
depends on its roles only (engine/access/permissions.require), so two callers with the same roles
get the same answer. Only successful answers are kept, so a caller who is refused is refused by
the full path every time. Which reads may be cached (answers that depend only on the graph and the
request, not on the clock or on who exactly asks) is the doors' decision: api/read_cache.py.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CachedAnswer:
    """An HTTP answer as it was sent: status, headers (without per-request ones), body."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    route: Any = field(default=None, compare=False)  # the matched route, for the metrics' route template


#: the audit head: (seq, hash of the entry at seq). The hash tells a graph dropped and written again
#: up to the same seq from the one the answers were computed on
Version = tuple[int, str]


def head_version(store: Any) -> Version:
    """The audit head's (seq, hash), (-1, "") for a graph without a head. On FalkorDB the raw
    compact reply is read (no row decoding): this runs before every cached answer."""
    from tracegraph import queries

    ro = getattr(store, "ro_command", None)
    if ro is not None:
        reply = ro(queries.load("audit.head"))
        rows = reply[1] if len(reply) >= 3 else []
        if not rows or rows[0][0][1] is None:
            return (-1, "")
        return (int(rows[0][0][1]), str(rows[0][1][1] or ""))
    found = store.read("audit.head")
    if not found or found[0].get("seq") is None:
        return (-1, "")
    return (int(found[0]["seq"]), str(found[0].get("hash") or ""))


class ReadCache:
    """LRU of answers for ONE audit head version; `max_entries` answers of at most `max_bytes` each."""

    def __init__(self, max_entries: int = 4096, max_bytes: int = 1 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._version: Version | None = None
        self._items: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, version: Version, key: Hashable) -> CachedAnswer | None:
        with self._lock:
            if version != self._version:
                self.misses += 1
                return None
            hit = self._items.get(key)
            if hit is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return hit

    def put(self, version: Version, key: Hashable, answer: CachedAnswer) -> None:
        """Keep `answer`, computed after the head `version` was read. Another version empties the
        cache first (answers of the old one are never asked for again: `get` compares versions;
        a slow answer of an older head that lands late only costs the newer answers a recompute)."""
        if len(answer.body) > self.max_bytes or self.max_entries <= 0:
            return
        with self._lock:
            if version != self._version:
                self._items.clear()
                self._version = version
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._version = None

    def __len__(self) -> int:
        return len(self._items)


__all__ = ["CachedAnswer", "ReadCache", "Version", "head_version"]
