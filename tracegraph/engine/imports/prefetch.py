"""Make the next items of an import while the database writes the current one.

Why: an import step is Python work (rows out of the mapped facts, their SHA-256, their seals)
followed by a statement the database takes about as long to run. While the writer waits on the
socket the interpreter is idle (the wait releases the GIL), so a thread that makes the next steps
meanwhile hides most of that Python work behind the database's (docs/perf.md, EPCIS 2026-12-04).

The order of the items, and so of the audited statements, is unchanged: the writer still writes
one statement after the other, from one thread. At most `depth` items wait, so memory stays one
or two steps. An error in the maker is raised in the writer at the item it would have made; an
error in the writer (or leaving the loop early) stops the maker.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of `items`, made by a thread of their own up to `depth` ahead of the consumer."""
    q: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(x: object) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for x in items:
                if not put(x):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failed(exc))
            return
        put(_DONE)

    t = threading.Thread(target=make, name="import-prefetch", daemon=True)
    t.start()
    try:
        while True:
            x = q.get()
            if x is _DONE:
                return
            if isinstance(x, _Failed):
                raise x.exc
            yield x  # type: ignore[misc]
    finally:
        stop.set()
        t.join(timeout=5)


__all__ = ["ahead"]
