"""One import at a time in this process, and which runs this process is still running.

Why: the API server captures EPCIS events in a thread pool, so two packaging lines posting at
the same moment are two threads of ONE process. Before this module,
- the second capture's automatic recovery (runner.recover_unfinished) took the first one's
  live run for a dead one -- same pid, so "not another process" -- and rolled it back or
  finished it under the first thread's feet (both captures then failed);
- or it met the import lock and its event was refused ("another import holds the import lock"),
  where the line should simply have waited its turn;
- and each mapped its events against the graph before either held the lock, so both could decide
  that the same new product was theirs to create.

So every import of this process takes its turn (`turn()`: a re-entrant lock around reading,
mapping and writing), and a run is marked live here while a thread of this process runs it
(`running()`), which is what `_process_alive` asks for a run with this process's pid. Imports
from other processes still meet the import lock in the graph; a capture waits for it
(loaders/epcis_capture.py), a CLI import is told who holds it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_TURN = threading.RLock()
_LIVE: set[str] = set()
_LIVE_GUARD = threading.Lock()


@contextlib.contextmanager
def turn() -> Iterator[None]:
    """Hold this process's import turn (threads queue here; re-entrant for nested calls)."""
    with _TURN:
        yield


@contextlib.contextmanager
def running(import_id: str) -> Iterator[None]:
    """Mark `import_id` as run by a live thread of this process until the block ends."""
    with _LIVE_GUARD:
        _LIVE.add(import_id)
    try:
        yield
    finally:
        with _LIVE_GUARD:
            _LIVE.discard(import_id)


def is_running_here(import_id: str) -> bool:
    """Is a thread of this process running this import now?"""
    with _LIVE_GUARD:
        return import_id in _LIVE


__all__ = ["turn", "running", "is_running_here"]
