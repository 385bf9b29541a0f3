"""`tracegraph audit verify`: recompute the hash chain and compare audited records with it.

What is checked, entry by entry in seq order (pages of `PAGE_SIZE`, one query each):
  1. seq is contiguous from the start (a deleted, added or renumbered entry breaks this);
  2. the entry has exactly the hashed fields plus `hash` (an added property shows);
  3. `hash` equals SHA-256 of the RFC 8785 form of its fields (an edited field shows);
  4. `prev_hash` equals the previous entry's stored `hash` (a rewritten entry shows);
  5. exactly one PREV edge, to the previous entry (none for seq 1);
then: the AuditHead's seq/hash equal the last entry; the number of entries equals the head's
seq; and every audited record's current properties equal the latest `new` value of each field
in the entries about it (see the state contract in engine/audit/chain.py).

Problems are reported, not raised: the report names the FIRST broken entry (lowest seq; chain
problems before record-state problems, which a broken chain can cause) and what differs. One tampering gives one problem: the chain links on STORED hashes, so an edited
entry does not make every later entry fail too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, Field

from tracegraph import queries
from tracegraph.engine.audit.chain import ENTRY_FIELDS, GENESIS_HASH, Actor, row_hash
from tracegraph.engine.audit.record_scan import SealBook, scan
from tracegraph.engine.errors import DatabaseError, IntegrityError
from tracegraph.engine.stores.base import GraphStore

PAGE_SIZE = 20_000
MAX_PROBLEMS = 100
#: actions after which a record may legitimately be gone from the graph
DELETE_ACTIONS = frozenset({"delete", "purge"})
_NKEYS = len(ENTRY_FIELDS) + 1  # hashed fields + hash
_NONE: list[Any] = []
_SEAL_KINDS = frozenset({"record_tampered", "record_unsealed", "ledger_mismatch"})
_STATE_KINDS = frozenset({"record_mismatch", "record_missing", "record_tampered", "record_unsealed",
                          "ledger_mismatch"})


class VerifyProblem(BaseModel):
    """One thing that does not verify."""

    seq: int | None = Field(description="entry the problem is found at (None: the head / the log as a whole)")
    kind: str = Field(description="missing_entry | extra_property | hash_mismatch | prev_hash_mismatch | "
                      "prev_edge | head_mismatch | count_mismatch | record_mismatch | record_missing | "
                      "record_tampered | record_unsealed | ledger_mismatch")
    message: str
    field: str | None = None
    expected: Any = None
    actual: Any = None


class VerifyReport(BaseModel):
    ok: bool
    from_seq: int
    to_seq: int
    entries_checked: int
    records_checked: int = Field(description="records whose audited fields were compared with the entries")
    sealed_checked: int = Field(default=0, description="sealed nodes and edges whose content was checked against "
                                "their seal and entry ledgers (engine/audit/record_scan.py)")
    records_per_second: float = Field(default=0.0, description="sealed records checked per second of the record scan")
    head_seq: int
    head_hash: str
    trusted_start: str = Field(description="where the hash before from_seq came from")
    first_error: VerifyProblem | None = None
    problems: list[VerifyProblem] = Field(default_factory=list)
    seconds: float = 0.0
    entries_per_second: float = 0.0


# ------------------------------------------------------------------------------------------
# Reading: one query per page. On FalkorDB the verbose reply is parsed by hiredis directly,
# about 5x faster than the client's typed parser; other backends use store.read.
# ------------------------------------------------------------------------------------------
def int_rows(store: GraphStore, query_name: str, params: dict[str, int]) -> list[list[Any]]:
    conn = getattr(getattr(store, "_db", None), "connection", None)
    graph = getattr(store, "graph_name", None)
    if getattr(store, "backend", "") == "falkordb" and conn is not None and graph:
        header = "CYPHER " + " ".join(f"{k}={int(v)}" for k, v in params.items()) + " "
        try:
            reply = conn.execute_command("GRAPH.RO_QUERY", graph, header + queries.load(query_name))
        except Exception as exc:  # redis errors: report like the store does
            raise DatabaseError(f"reading the audit trail failed: {exc}") from None
        return list(reply[1]) if len(reply) >= 3 else []
    return [list(r.values()) for r in store.read(query_name, **params)]


def _fetch(store: GraphStore, after: int, upto: int) -> tuple[list[list[Any]], dict[int, list[Any]]]:
    rows = int_rows(store, "audit.page", {"after": after, "upto": upto})
    prevs: dict[int, list[Any]] = {}
    for s, p in int_rows(store, "audit.prev_page", {"after": after, "upto": upto}):
        prevs.setdefault(s, []).append(p)
    return rows, prevs


def _pages(store: GraphStore, after: int, upto: int, page: int) -> Iterator[tuple[list[list[Any]], dict[int, list[Any]]]]:
    """Pages in order; the next page is fetched in a thread while the caller hashes this one
    (the database works in its own process meanwhile)."""
    from concurrent.futures import ThreadPoolExecutor

    bounds = [(lo, min(lo + page, upto)) for lo in range(after, upto, page)]
    if not bounds:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-verify") as pool:
        fut = pool.submit(_fetch, store, *bounds[0])
        for i in range(len(bounds)):
            result = fut.result()
            if i + 1 < len(bounds):
                fut = pool.submit(_fetch, store, *bounds[i + 1])
            yield result


def _norm(v: Any) -> Any:
    """A value as it round-trips through the audit trail's JSON."""
    return json.loads(json.dumps(v, sort_keys=True, default=str))


def verify(
    store: GraphStore,
    *,
    from_seq: int = 1,
    check_state: bool = True,
    page_size: int = PAGE_SIZE,
    trusted_hash: str | None = None,
    actor: Actor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Verify the chain from `from_seq` to the head (see module docstring).

    `from_seq > 1` verifies incrementally: the hash before it comes from `trusted_hash`, else
    from a signed checkpoint of size `from_seq - 1` when one exists, else from the stored
    entry `from_seq - 1` (as trustworthy as the last full verify). Record state is then only
    checked for fields changed from `from_seq` on.
    """
    if actor is not None:
        from tracegraph.engine.access.permissions import require

        require(actor, "audit.verify")
    started = time.perf_counter()
    problems: list[VerifyProblem] = []

    def problem(p: VerifyProblem) -> None:
        problems.append(p)

    heads = store.read("audit.head_node")
    head_seq = int(heads[0]["seq"]) if heads and isinstance(heads[0].get("seq"), int) else -1
    head_hash = str(heads[0]["hash"]) if heads else ""
    if len(heads) != 1:
        problem(VerifyProblem(seq=None, kind="head_mismatch", message=f"expected one AuditHead, found {len(heads)}"))
    stats = store.read("audit.stats")[0]
    max_seq = stats["max_seq"] if isinstance(stats["max_seq"], int) else 0
    # never scan past either end (a tampered seq or head could be huge)
    upto = min(head_seq, max_seq) if head_seq >= 0 else max_seq
    if max_seq > upto:
        problem(VerifyProblem(
            seq=upto + 1, kind="missing_entry", expected=upto, actual=max_seq,
            message=f"entries beyond the head exist (highest seq {max_seq}, head {head_seq}): "
            "an entry was renumbered or added outside the chain",
        ))

    from_seq = max(1, int(from_seq))
    if from_seq == 1:
        prev_hash, trusted = GENESIS_HASH, "genesis"
    elif trusted_hash:
        prev_hash, trusted = trusted_hash, "given hash"
    else:
        prev_hash, trusted = _trusted_start(store, from_seq - 1)

    expected = from_seq
    checked = 0
    # record -> (last seq about it, last action) and record -> field -> (seq, new value)
    last_about: dict[tuple[str, str], tuple[int, str]] = {}
    state: dict[tuple[str, str], dict[str, tuple[int, Any]]] = {}
    book = SealBook()
    for rows, prevs in _pages(store, from_seq - 1, upto, page_size):
        for row in rows:
            seq = row[0]
            if seq != expected:
                if isinstance(seq, int) and seq > expected:
                    problem(VerifyProblem(
                        seq=expected, kind="missing_entry",
                        message=f"entry {expected} is missing (the next stored entry is {seq}): "
                        "an entry was deleted or renumbered",
                    ))
                    expected = seq
                else:
                    problem(VerifyProblem(seq=expected, kind="missing_entry",
                                          message=f"unexpected entry seq {seq!r} where {expected} was expected"))
                    continue
            stored_hash = row[11]
            if row[12] != _NKEYS:
                problem(VerifyProblem(seq=seq, kind="extra_property", expected=_NKEYS, actual=row[12],
                                      message=f"entry {seq} has {row[12]} properties, expected {_NKEYS}: "
                                      "a property was added to or removed from it"))
            computed = row_hash(row)
            if computed != stored_hash:
                problem(VerifyProblem(
                    seq=seq, kind="hash_mismatch", field="hash",
                    message=f"entry {seq}: its stored hash does not match the hash of its fields "
                    "(a field of the entry, or its hash, was changed after it was written)",
                    expected=computed, actual=stored_hash,
                ))
            if row[10] != prev_hash:
                problem(VerifyProblem(
                    seq=seq, kind="prev_hash_mismatch", field="prev_hash", expected=prev_hash, actual=row[10],
                    message=f"entry {seq}: prev_hash does not equal the hash of entry {seq - 1} "
                    "(an entry was rewritten, removed or reordered)",
                ))
            got_prev = prevs.get(seq, _NONE)
            if got_prev != ([seq - 1] if seq > 1 else _NONE):
                want_prev = [seq - 1] if seq > 1 else []
                got = sorted(got_prev, key=str)
                problem(VerifyProblem(
                    seq=seq, kind="prev_edge", expected=want_prev, actual=got,
                    message=f"entry {seq}: PREV edges point to {got}, expected {want_prev}",
                ))
            if check_state:
                _fold(row, seq, last_about, state, problem, book)
            prev_hash = stored_hash
            expected += 1
            checked += 1
        if progress:
            progress(expected - 1, upto)

    last_seq = expected - 1
    if last_seq < upto:
        problem(VerifyProblem(
            seq=expected, kind="missing_entry", expected=upto, actual=last_seq,
            message=f"entry {expected} is missing (the chain ends at {last_seq}, the head says {head_seq}): "
            "an entry was deleted or renumbered",
        ))
    if head_seq != last_seq or head_hash != prev_hash:
        problem(VerifyProblem(
            seq=head_seq if head_seq >= 0 else None, kind="head_mismatch", field="head",
            expected={"seq": last_seq, "hash": prev_hash}, actual={"seq": head_seq, "hash": head_hash},
            message=f"the AuditHead (seq {head_seq}) does not match the last entry (seq {last_seq})",
        ))
    if from_seq == 1 and stats["count"] != head_seq:
        problem(VerifyProblem(
            seq=None, kind="count_mismatch", expected=head_seq, actual=stats["count"],
            message=f"{stats['count']} entries are stored but the head says {head_seq}",
        ))
    records = 0
    sealed_n, scan_s = 0, 0.0
    if check_state:
        records = _check_state(store, last_about, state, problem)
        # the record scan: from the genesis every record; incremental, those sealed from `from_seq` on

        def sealed(kind: str, seq: int | None, message: str, expected: Any, actual: Any) -> None:
            problem(VerifyProblem(seq=seq, kind=kind, message=message, expected=expected, actual=actual))

        t_scan = time.perf_counter()
        sealed_n = scan(store, book, sealed, from_seq=from_seq)
        scan_s = time.perf_counter() - t_scan

    # chain problems first: when the chain is broken, record checks built on it are secondary
    # and a field-level finding (it names the field) before the seal finding about the same change
    problems.sort(key=lambda p: (p.kind in _STATE_KINDS, p.kind in _SEAL_KINDS, p.seq is None, p.seq or 0))
    seconds = time.perf_counter() - started
    return VerifyReport(
        ok=not problems,
        from_seq=from_seq,
        to_seq=last_seq,
        entries_checked=checked,
        records_checked=records,
        sealed_checked=sealed_n,
        records_per_second=round(sealed_n / scan_s, 1) if scan_s > 0 else 0.0,
        head_seq=head_seq,
        head_hash=head_hash,
        trusted_start=trusted,
        first_error=problems[0] if problems else None,
        problems=problems[:MAX_PROBLEMS],
        seconds=round(seconds, 4),
        entries_per_second=round(checked / seconds, 1) if seconds > 0 else 0.0,
    )


def verify_or_raise(store: GraphStore, **kwargs: Any) -> VerifyReport:
    """`verify`, raising IntegrityError naming the first broken entry."""
    report = verify(store, **kwargs)
    if not report.ok:
        assert report.first_error is not None
        raise IntegrityError(
            f"the audit trail does not verify: {report.first_error.message}",
            hint="run `tracegraph audit verify --json` for every problem; restore from backup and investigate",
        )
    return report


def _trusted_start(store: GraphStore, seq: int) -> tuple[str, str]:
    cps = store.read("audit.checkpoint_by_size", size=seq)
    if cps:
        return str(cps[0]["head_hash"]), f"checkpoint {cps[0]['id']}"
    rows = store.read("audit.entry", seq=seq)
    if not rows:
        raise IntegrityError(f"cannot start verifying at {seq + 1}: entry {seq} does not exist",
                             hint="verify from 1, or from a seq that exists")
    return str(rows[0]["e"].get("hash")), f"stored entry {seq}"


def _fold(
    row: list[Any],
    seq: int,
    last_about: dict[tuple[str, str], tuple[int, str]],
    state: dict[tuple[str, str], dict[str, tuple[int, Any]]],
    problem: Callable[[VerifyProblem], None],
    book: SealBook,
) -> None:
    key = (row[5], row[6])  # target_label, target_key
    if not isinstance(key[0], str) or not isinstance(key[1], str) or not key[1]:
        return
    last_about[key] = (seq, str(row[4]))  # action
    book.about.add(key)
    raw = row[7]  # changes
    if raw in ("[]", "", None):
        return
    try:
        changes = json.loads(raw)
    except (TypeError, ValueError):
        problem(VerifyProblem(seq=seq, kind="hash_mismatch", field="changes",
                              message=f"entry {seq}: changes is not valid JSON"))
        return
    if not isinstance(changes, list):
        return
    book.fold(seq, key, changes)
    rec = state.setdefault(key, {})
    for c in changes:
        if isinstance(c, dict) and c.get("state", True) and not c.get("redacted") and isinstance(c.get("field"), str):
            rec[c["field"]] = (seq, c.get("new"))


def _check_state(
    store: GraphStore,
    last_about: dict[tuple[str, str], tuple[int, str]],
    state: dict[tuple[str, str], dict[str, tuple[int, Any]]],
    problem: Callable[[VerifyProblem], None],
) -> int:
    targets = [k for k, v in state.items() if v]
    by_seq = {last_about[k][0]: k for k in targets}
    seqs = sorted(by_seq)
    checked = 0
    for i in range(0, len(seqs), 5000):
        chunk = seqs[i : i + 5000]
        found: dict[int, dict[str, Any] | None] = {}
        for r in store.read("audit.target_state", seqs=chunk):
            if r.get("props") is not None or r["seq"] not in found:
                found[r["seq"]] = r.get("props")
        for s in chunk:
            key = by_seq[s]
            props = found.get(s)
            checked += 1
            if props is None:
                if last_about[key][1] not in DELETE_ACTIONS:
                    problem(VerifyProblem(
                        seq=s, kind="record_missing",
                        message=f"{key[0]} {key[1]!r} (last audited in entry {s}) is missing, or that entry's "
                        "ABOUT link to it was removed",
                    ))
                continue
            for fname, (fseq, new) in sorted(state[key].items(), key=lambda kv: kv[1][0]):
                actual = props.get(fname)
                if _norm(actual) != _norm(new):
                    problem(VerifyProblem(
                        seq=fseq, kind="record_mismatch", field=fname, expected=new, actual=actual,
                        message=f"{key[0]} {key[1]!r}: field {fname!r} is {actual!r} but entry {fseq} recorded "
                        f"{new!r} (the record was changed without an audit entry)",
                    ))
    return checked


__all__ = ["VerifyProblem", "VerifyReport", "verify", "verify_or_raise", "PAGE_SIZE", "DELETE_ACTIONS"]
