"""The events of a big EPCIS document held on disk, not as dicts: a sequence that decodes an
event when it is asked for.

    spool = EventSpool()            # hold=HOLD_EVENTS events in memory, then spill to a temp file
    spool.append(event)             # the streaming reader's events, one at a time
    len(spool); spool[i]; iter(spool); spool.time_order()

Why: the mapping reads the events of a document several times (identity, lot kinds, mapping in
time order, late packing, early receipts, ...), so `load_stream` kept every event as a parsed
dict until the mapping ended: about 6 KB an event of 64 EPCs, 3x its JSON text. Spilled, an
event costs 8 bytes in memory (its offset) and its compact JSON on disk; each pass decodes one
event at a time (`os.pread`, so passes and look-ups may interleave).

The values are those the reader gave: JSON text written by `json.dumps` reads back equal
(floats by their shortest repr, big integers, NaN, lone surrogates through `surrogatepass`), and
key order is kept. Up to `hold` events stay in memory as they came (the same objects: a small
document or a capture is mapped exactly as before); past that all of them are spilled. Adding
the spool to a list (`stored + spool`, as the re-mapping of a re-kinded lot or an early
receipt does) gives a list of every event: those rare paths hold the document's events, as
before.
"""

from __future__ import annotations

import json
import os
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, overload

#: events kept in memory before the spool spills them all to its temporary file
HOLD_EVENTS = 2000
_READ = 1 << 20  # bytes read at a time by a sequential pass


class EventSpool(Sequence[dict[str, Any]]):
    """Events appended one by one, held in memory up to `hold`, then in a temporary file."""

    def __init__(self, hold: int = HOLD_EVENTS, dir: str | None = None) -> None:
        self.hold = hold
        self._dir = dir
        self._mem: list[dict[str, Any]] | None = []
        self._fh: IO[bytes] | None = None
        self._offsets = array("q", [0])  # start of each event, and the end of the last one
        #: a view (`take`): the positions in `_offsets` of its events, in its order
        self._index: array[int] | None = None
        self._owner: EventSpool | None = None

    @property
    def spilled(self) -> bool:
        """True once the events are on disk (decoded anew at each access)."""
        return self._mem is None

    def append(self, event: dict[str, Any]) -> None:
        if self._mem is not None:
            self._mem.append(event)
            if len(self._mem) > self.hold:
                self._spill()
            return
        self._write(event)

    def _spill(self) -> None:
        mem, self._mem = self._mem or [], None
        self._fh = tempfile.TemporaryFile(prefix="tracegraph-events-", dir=self._dir)  # noqa: SIM115 - closed by close()
        for e in mem:
            self._write(e)

    def _write(self, event: dict[str, Any]) -> None:
        assert self._fh is not None
        data = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        self._fh.write(data)
        self._offsets.append(self._offsets[-1] + len(data))

    def _flush(self) -> int:
        if self._fh is None:
            raise ValueError("the spool is closed")
        self._fh.flush()
        return self._fh.fileno()

    def __len__(self) -> int:
        if self._mem is not None:
            return len(self._mem)
        return len(self._index) if self._index is not None else len(self._offsets) - 1

    def _span(self, i: int) -> tuple[int, int]:
        k = self._index[i] if self._index is not None else i
        return self._offsets[k], self._offsets[k + 1]

    def take(self, positions: Sequence[int]) -> EventSpool:
        """The events at `positions`, in that order, without copying them (a view on the same file)."""
        out = EventSpool(self.hold, self._dir)
        if self._mem is not None:
            out._mem = [self._mem[p] for p in positions]
            return out
        out._mem, out._fh, out._offsets = None, self._fh, self._offsets
        out._index = array("q", (self._index[p] for p in positions) if self._index is not None else positions)
        out._owner = self  # the file stays open while a view is alive
        return out

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if self._mem is not None:
            return self._mem[i]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("event index out of range")
        start, end = self._span(i)
        return _decode(os.pread(self._flush(), end - start, start))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._mem is not None:
            yield from list(self._mem)
            return
        fd, n = self._flush(), len(self)
        if self._index is not None:  # a view: one read an event
            for i in range(n):
                start, end = self._span(i)
                yield _decode(os.pread(fd, end - start, start))
            return
        offsets = self._offsets
        i = 0
        while i < n:  # a block of whole events at a time
            j = i + 1
            while j < n and offsets[j + 1] - offsets[i] <= _READ:
                j += 1
            block = os.pread(fd, offsets[j] - offsets[i], offsets[i])
            base = offsets[i]
            for k in range(i, j):
                yield _decode(block[offsets[k] - base:offsets[k + 1] - base])
            i = j

    def __add__(self, other: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(self) + list(other)

    def __radd__(self, other: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(other) + list(self)

    def time_order(self, key: Any) -> list[int]:
        """The positions of the events sorted by `key(event)` and then by position (a stable sort),
        each event decoded once."""
        keys = [key(e) for e in self]
        return sorted(range(len(keys)), key=keys.__getitem__)

    def close(self) -> None:
        """Drop the temporary file (also done when the spool is garbage-collected)."""
        if self._fh is not None and self._index is None:
            self._fh.close()
            self._fh = None


def _decode(data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(data.decode("utf-8", "surrogatepass"))
    return out




def where(events: Sequence[dict[str, Any]], keep: Callable[[dict[str, Any]], bool]) -> Sequence[dict[str, Any]]:
    """The events `keep` accepts, in order: a view when `events` is a spilled spool (nothing
    decoded is held), else a list of the same objects."""
    if isinstance(events, EventSpool) and events.spilled:
        return events.take([i for i, e in enumerate(events) if keep(e)])
    return [e for e in events if keep(e)]


__all__ = ["EventSpool", "HOLD_EVENTS", "where"]
