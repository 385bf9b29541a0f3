"""The record half of `audit verify`: every sealed node and edge checked against the chain.

The chain walk (engine/audit/verify.py) feeds a `SealBook` with what the entries say: each entry's
seal ledger (engine/audit/seals.py) and every audited field change with its old value. `scan` then
streams every node of a sealed label and every edge of a sealed type (one page per query, the line
rebuilt by the database) and reports, naming the record and the entry:

* `record_tampered`: the record's content does not match its seal, after undoing the field changes
  audited since the seal (a QA status change, a quarantine, a return), so only a change made
  behind the engine's back is left;
* `record_unsealed`: a node with no seal and no entry about it (created outside the engine), or an
  edge with no seal (every writer of a sealed edge seals it);
* `ledger_mismatch`: the records that still carry an entry's seq are not the ones its ledger
  committed minus what later entries dropped: a record was deleted (too few) or one was added
  with a copied seal (too many, or the same count with other seals).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tracegraph import queries
from tracegraph.engine.audit.seals import (
    EDGE_FIELDS,
    LEDGER_FIELD,
    NODE_FIELDS,
    US,
    edge_prefix,
    enc,
    field_kind,
    seal_of_line,
    split_line,
    triple_name,
)
from tracegraph.engine.stores.base import GraphStore

_MOD = 1 << 256
SCAN_PAGE = 100_000


@dataclass
class SealBook:
    """What the chain committed about records: ledgers by seq, and audited field changes."""

    ledgers: dict[int, list[int]] = field(default_factory=dict)
    #: (label, key) -> [(seq, field, old value)] of audited changes, in seq order
    changes: dict[tuple[str, str], list[tuple[int, str, Any]]] = field(default_factory=dict)
    #: (label, key) of every record some entry is about
    about: set[tuple[str, str]] = field(default_factory=set)

    def fold(self, seq: int, target: tuple[str, str], changes: list[Any]) -> None:
        self.about.add(target)
        for c in changes:
            if not isinstance(c, dict):
                continue
            f = c.get("field")
            if f == LEDGER_FIELD and c.get("state") is False and isinstance(c.get("new"), dict):
                self._ledger(seq, c["new"])
                continue
            if c.get("redacted") or not isinstance(f, str):
                continue
            if "label" in c and "key" in c:  # a bulk step's change of another record (quarantine, returns)
                rec = (str(c["label"]), str(c["key"]))
                self.about.add(rec)
            elif c.get("state", True):
                rec = target
            else:
                continue
            if rec[0] in NODE_FIELDS:
                self.changes.setdefault(rec, []).append((seq, f, c.get("old")))

    def _ledger(self, seq: int, led: dict[str, Any]) -> None:
        try:
            got = self.ledgers.setdefault(seq, [0, 0])
            got[0] += int(led.get("n") or 0)
            got[1] = (got[1] + int(str(led.get("sum") or "0"), 16)) % _MOD
            for s, (n, total) in (led.get("drop") or {}).items():
                d = self.ledgers.setdefault(int(s), [0, 0])
                d[0] -= int(n)
                d[1] = (d[1] - int(str(total), 16)) % _MOD
        except (TypeError, ValueError):
            return


Problem = Callable[[str, int | None, str, Any, Any], None]


def _raw_pages(store: GraphStore, query_name: str, label: str, page: int, extra: dict[str, Any] | None = None
               ) -> Iterator[list[list[Any]]]:
    """Pages of (seal, seq, line) rows by internal id range of `label`'s nodes (an id seek per page;
    SKIP would rescan every earlier page: measured 2x slower at 600k). FalkorDB's verbose reply is
    parsed by hiredis, strings whole; other stores go through `store.read`."""
    span = store.read(f"seals.idspan_{label}")
    if not span or span[0]["lo"] is None:
        return
    lo, hi = int(span[0]["lo"]), int(span[0]["hi"])
    ro = getattr(store, "ro_command", None)
    text = queries.load(query_name)

    def fetch(start: int) -> list[list[Any]]:
        params = {"lo": start, "hi": start + page, "us": US, **(extra or {})}
        if ro is not None:
            reply = ro(text, params, compact=False, timeout_s=600)
            return [list(r) for r in reply[1]] if len(reply) >= 3 else []
        return [[r["s"], r["q"], r["l"]] for r in store.read(query_name, **params)]

    # the next page is read in a thread while the caller hashes this one (the database works in its
    # own process meanwhile), as the chain walk does
    from concurrent.futures import ThreadPoolExecutor

    starts = list(range(lo, hi + 1, page))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seal-scan") as pool:
        fut = pool.submit(fetch, starts[0])
        for i in range(len(starts)):
            rows = fut.result()
            if i + 1 < len(starts):
                fut = pool.submit(fetch, starts[i + 1])
            if rows:
                yield rows


def scan(store: GraphStore, book: SealBook, problem: Problem, *, page: int = SCAN_PAGE,
         progress: Callable[[int], None] | None = None, from_seq: int = 1) -> int:
    """Check every sealed node and edge (see the module docstring); returns how many were checked.

    With `from_seq > 1` (incremental verify; `book` then holds only the entries from `from_seq`):
    only records sealed by entry `from_seq` or later, and the ledgers of those entries, are
    checked. That is exact for them (every later change and drop is in the book); records sealed
    before, and unsealed records, wait for the next full verify."""
    seen: dict[int, list[int]] = {}
    checked = 0
    since = from_seq > 1
    extra = {"from": int(from_seq)} if since else None
    for label in NODE_FIELDS:
        idx_key = 0
        for rows in _raw_pages(store, f"seals.nodes_since_{label}" if since else f"seals.nodes_{label}", label, page,
                               extra):
            for seal, seq, line in rows:
                checked += 1
                key = line.split(US, 1)[idx_key]
                if seal is None:
                    if (label, key) not in book.about:
                        problem("record_unsealed", None,
                                f"{label} {key!r} has no seal and no audit entry is about it: it was created "
                                "outside the engine", None, None)
                    continue
                undo = book.changes.get((label, key))
                if undo and isinstance(seq, int):
                    line = _undo(label, line, seq, undo)
                if seal_of_line(label, line) != seal:
                    problem("record_tampered", seq if isinstance(seq, int) else None,
                            f"{label} {key!r} no longer matches the seal entry {seq} committed: a field was "
                            "changed behind the engine's back (no audit entry explains it)", seal, None)
                _count(seen, seq, seal)
            if progress:
                progress(checked)
    for t in EDGE_FIELDS:
        prefix = edge_prefix(t)
        name = f"seals.edges_since_{triple_name(t)}" if since else f"seals.edges_{triple_name(t)}"
        for rows in _raw_pages(store, name, t[0], page, extra):
            for seal, seq, line in rows:
                checked += 1
                if seal is None:
                    a, b = line.split(US)[:2]
                    problem("record_unsealed", None,
                            f"edge ({t[0]} {a!r})-[:{t[1]}]->({t[2]} {b!r}) has no seal: it was added behind the "
                            "engine's back", None, None)
                    continue
                if seal_of_line(prefix, line) != seal:
                    a, b = line.split(US)[:2]
                    problem("record_tampered", seq if isinstance(seq, int) else None,
                            f"edge ({t[0]} {a!r})-[:{t[1]}]->({t[2]} {b!r}) no longer matches the seal entry {seq} "
                            "committed: a property was changed behind the engine's back", seal, None)
                _count(seen, seq, seal)
            if progress:
                progress(checked)
    for seq in sorted(set(book.ledgers) | set(seen)):
        if seq < from_seq:  # drops of earlier entries' seals: their records were not read
            continue
        want = book.ledgers.get(seq, [0, 0])
        got = seen.get(seq, [0, 0])
        if want[0] == got[0] and want[1] % _MOD == got[1] % _MOD:
            continue
        if got[0] < want[0]:
            msg = (f"entry {seq} sealed {want[0]} records that are still current, but only {got[0]} carry its seal: "
                   f"{want[0] - got[0]} were deleted behind the engine's back")
        elif got[0] > want[0]:
            msg = (f"{got[0]} records carry the seal of entry {seq}, which committed {want[0]}: "
                   f"{got[0] - want[0]} were added behind the engine's back")
        else:
            msg = (f"the records that carry the seal of entry {seq} are not the ones it committed (a record was "
                   "replaced behind the engine's back)")
        problem("ledger_mismatch", seq, msg, want[0], got[0])
    return checked


def _count(seen: dict[int, list[int]], seq: Any, seal: str) -> None:
    if not isinstance(seq, int):
        seq = -1
    got = seen.setdefault(seq, [0, 0])
    got[0] += 1
    try:
        got[1] = (got[1] + int(seal, 16)) % _MOD
    except (TypeError, ValueError):
        got[1] = -1


def _undo(label: str, line: str, sealed_seq: int, changes: list[tuple[int, str, Any]]) -> str:
    """The line as it was sealed: each field audited as changed after the seal goes back to the old
    value of its first such change."""
    fields = split_line(label, line)
    done: set[str] = set()
    for seq, name, old in changes:
        if seq <= sealed_seq or name in done:
            continue
        kind = field_kind(label, name)
        if kind is None:
            continue
        done.add(name)
        fields[name] = enc(old, kind)
    return US.join(fields.get(f, "") for f, _ in NODE_FIELDS[label])


__all__ = ["SealBook", "scan", "SCAN_PAGE"]
