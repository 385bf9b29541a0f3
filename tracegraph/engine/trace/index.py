"""The trace index: an in-memory adjacency image of the material flow (lots, batches, units and
the customers holding them), kept in step with the graph, over which forward impact runs as
numpy frontier expansion.

Why: a forward impact asks the graph for a few hundred to tens of thousands of units. With the
graph database doing the traversal, the cost was never the traversal: it was the reply (every
unit's id, status and holder travelling as values and decoded in Python, ~150k values for a
supplier-wide answer) and the round trips (a 600-unit lot impact needed three). An adjacency
index "kept in step with the graph" (issue 5) answers from arrays: a lot impact at 1M units is a
few hundred microseconds of numpy, a supplier-wide impact a few milliseconds
(docs/trace.md "The trace index").

Kept in step, never stale: every business write moves the audit head in the same statement
(engine/audit/chain.py). The index remembers the head seq it was read at (read BEFORE its data, so a
write that lands while it is being read makes it stale, never wrong). Every query first reads the
head (one indexed lookup) and uses the index only if nothing was written since, or if every entry
since was about a record kind the index does not hold (logins, signatures, QMS records, ...:
`UNTOUCHED_LABELS`). Otherwise that query is answered by the Cypher path (always correct) and
the index is rebuilt: in a background thread in servers, or inline when the mode says so.

The graph stays the system of record; the index holds nothing that is not re-read from it.

Why this module is long: building the index, keeping it fresh (head check, patch, rebuild in
the background) and the holder shared by threads are one invariant, "never answer from a stale
image"; the parts change together and are tested together (tests/test_trace_index.py).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tracegraph.engine.stores.base import GraphStore, Row
from tracegraph.engine.trace.fast import gc_paused, read_fast
from tracegraph.engine.trace.models import FORWARD_EDGES, HELD_STATUSES, RETURNED_STATUSES
from tracegraph.engine.trace.packing import END, Packing

#: unit statuses that show a warehouse (the Cypher path shows one only for these)
IN_HOUSE_STATUSES: frozenset[str] = frozenset({"in_stock", "quarantined"})

Mode = Literal["inline", "background"]

#: node labels in the index (codes are positions)
LABELS: tuple[str, ...] = ("MaterialLot", "Batch", "Serial")
LOT, BATCH, SERIAL = 0, 1, 2
#: the flow edges in the index (codes are positions); which label pairs are read is EDGE_QUERIES
EDGE_CODE: dict[str, int] = {t: i for i, t in enumerate(FORWARD_EDGES)}
#: audit entries about these record kinds never change what the index holds (lots, batches,
#: units, customers, flow edges), so they do not make it stale. Property changes of units,
#: batches and customers, and recall steps (returns, quarantine and cancel change covered units),
#: are re-read by `patch`; everything else (imports, creates, links, unknown kinds) needs a build.
#: A batch release changes the batch through its own audited `status` entry, so Release is here.
UNTOUCHED_LABELS: frozenset[str] = frozenset({
    "User", "Token", "Signature", "Checkpoint", "RecallAlert", "RecallDrill",
    "Complaint", "Deviation", "CAPA", "ChangeControl", "Document", "TrainingRecord",
    "Calibration", "Inspection", "Supplier", "Equipment", "Release", "ValidationReport", "AuditReview",
    "RegulatoryDocument",
})
#: rows per page of the big build statements (units, edges): bounds the reply held in memory
PAGE_ROWS = 500_000
#: after a failed build, queries use the graph and no new build starts for this long
RETRY_AFTER_FAILURE_S = 30.0
#: audit entries about these kinds, with these actions, change only properties of the one record
#: they name (engine/commands.py): the index re-reads that record (`patch`), no full build
PROPERTY_LABELS: dict[str, str] = {"Serial": "units", "Batch": "batches", "Customer": "customers"}
PROPERTY_ACTIONS: frozenset[str] = frozenset({"update", "status", "retire", "note"})
#: a patch of at most this many records (and no recall) is applied before answering, in any mode
INLINE_PATCH_MAX = 200
#: more entries than this since the index's seq: rebuild without reading them
MAX_ENTRIES_CHECKED = 2_000
#: frontiers up to this size are expanded in Python, larger ones with numpy (measured crossover)
SMALL_FRONTIER = 96


@dataclass
class Reach:
    """The nodes a traversal reached: node ids, their depth and the node that reached each
    first (-1 for seeds), in breadth-first level order."""

    nodes: np.ndarray
    depth: np.ndarray
    parent: np.ndarray


@dataclass
class TraceIndex:
    """Arrays over one node numbering. String values (keys, statuses, products, warehouses,
    customer ids, ...) are codes into one vocabulary `vocab` (code 0 = missing)."""

    seq: int
    built_at: float
    build_s: float
    vocab: np.ndarray                  # object array: code -> str (0 -> None)
    label: np.ndarray                  # int8 per node
    kcode: np.ndarray                  # int32 per node: vocab code of the business key
    rank: np.ndarray                   # int32 per node: position of its key among its label's keys
    lookup: list[dict[str, int]]       # per label: key -> node
    indptr: np.ndarray                 # CSR over flow edges (int64, nodes + 1)
    indices: np.ndarray                # int32 target node per edge
    etype: np.ndarray                  # int8 edge type code per edge
    # unit attributes (per node; 0 / -1 where not a unit)
    st: np.ndarray                     # vocab code of Serial.status
    cu: np.ndarray                     # vocab code of Serial.customer_id
    wh: np.ndarray                     # vocab code of Serial.warehouse
    own_pr: np.ndarray                 # vocab code of Serial.product_id
    own_bt: np.ndarray                 # vocab code of Serial.batch_id
    made_by: np.ndarray                # int32: the batch that PRODUCED it (-1 none)
    # batch attributes (per node)
    b_pr: np.ndarray                   # vocab code of Batch.product_id
    b_kind: np.ndarray
    b_uom: np.ndarray
    b_sa: np.ndarray
    b_st: np.ndarray
    b_qty: np.ndarray                  # object: qty exactly as stored (int, float or None)
    b_ns: np.ndarray                   # int32: units the batch PRODUCED
    customers: dict[str, Row]
    #: which container holds each unit now and the containers' nesting now (None: the plant has no
    #: container), so the containers of an index answer need no read (engine/trace/containers.py)
    packing: Packing | None = None
    codes: dict[str, int] = field(repr=False, default_factory=dict)  # vocab text -> code (not unit/lot keys)
    # lookups decided at build time, so a query does none of this work
    nonserial: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))    # per node: a batch
    #   without units that is not rework (its quantities come from shipments: the graph answers)
    is_held: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))      # per vocab code
    is_returned: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per vocab code
    is_in_house: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # per vocab code
    _stamp: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int32))
    _epoch: int = 0
    _lock: threading.Lock = field(repr=False, default_factory=threading.Lock)

    @property
    def n_nodes(self) -> int:
        return int(self.label.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.indices.shape[0])

    def code(self, text: str | None) -> int:
        """The vocabulary code of a string (-1 if the index has never seen it)."""
        if text is None:
            return 0
        return self.codes.get(text, -1)

    def node(self, label: str, key: str) -> int | None:
        return self.lookup[LABELS.index(label)].get(key)

    def key(self, node: int) -> str:
        return str(self.vocab[self.kcode[node]])

    def nbytes(self) -> int:
        """Bytes held by the arrays (the key dictionaries and strings come on top)."""
        return int(sum(getattr(self, f).nbytes for f in (
            "label", "kcode", "rank", "indptr", "indices", "etype", "st", "cu", "wh", "own_pr", "own_bt",
            "made_by", "b_pr", "b_kind", "b_uom", "b_sa", "b_st", "b_qty", "b_ns", "nonserial", "is_held",
            "is_returned", "is_in_house", "_stamp"))) + (self.packing.nbytes() if self.packing else 0)

    def reach(self, seeds: np.ndarray, allowed: np.ndarray, max_depth: int | None) -> Reach:
        """Multi-source breadth-first search over the allowed edge types, at most `max_depth`
        edges from a seed. Every node is visited once (rework loops end, shared inputs count
        once); the work is proportional to what is reached, never to the index size (the
        visited marks are an epoch-stamped array reused by every call).

        A level with a small frontier is expanded in plain Python (numpy's per-call overhead,
        ~15 calls per level, is most of the time below a few hundred nodes); a large one with
        vectorised frontier expansion."""
        with self._lock:
            self._epoch += 1
            if self._epoch >= 2**31 - 1:
                self._stamp[:] = 0
                self._epoch = 1
            e, stamp = self._epoch, self._stamp
            indptr, indices, etype = self.indptr, self.indices, self.etype
            ok = allowed.tolist()
            # small levels: plain Python with a set of seen nodes
            fl = sorted(set(seeds.tolist()))
            out_n, out_d, out_p = list(fl), [0] * len(fl), [-1] * len(fl)
            seen = set(fl)
            d = 0
            while fl and (max_depth is None or d < max_depth) and len(fl) <= SMALL_FRONTIER:
                found: dict[int, int] = {}
                for u in fl:
                    a, b = indptr[u], indptr[u + 1]
                    if a == b:
                        continue
                    for v, t in zip(indices[a:b].tolist(), etype[a:b].tolist()):
                        if ok[t] and v not in seen and v not in found:
                            found[v] = u
                d += 1
                fl = list(found)
                seen.update(fl)
                out_n += fl
                out_d += [d] * len(fl)
                out_p += found.values()
            nodes = [np.array(out_n, np.int64)]
            depths = [np.array(out_d, np.int32)]
            parents = [np.array(out_p, np.int64)]
            if fl and (max_depth is None or d < max_depth):
                # large levels: vectorised frontier expansion, visited marks as epoch stamps
                stamp[nodes[0]] = e
                frontier = np.array(fl, np.int64)
                while frontier.shape[0] and (max_depth is None or d < max_depth):
                    starts = indptr[frontier]
                    lens = indptr[frontier + 1] - starts
                    total = int(lens.sum())
                    if not total:
                        break
                    pos = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
                    nb = indices[pos]
                    keep = allowed[etype[pos]] & (stamp[nb] != e)
                    if not keep.any():
                        break
                    src = np.repeat(frontier, lens)[keep]
                    uniq, first = np.unique(nb[keep], return_index=True)
                    frontier = uniq.astype(np.int64, copy=False)
                    stamp[frontier] = e
                    d += 1
                    nodes.append(frontier)
                    depths.append(np.full(frontier.shape[0], d, np.int32))
                    parents.append(src[first])
        if len(nodes) == 1:
            return Reach(nodes[0], depths[0], parents[0])
        return Reach(np.concatenate(nodes), np.concatenate(depths), np.concatenate(parents))


# ---------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------


#: unit attribute arrays, in the column order of trace_index.serials / units_by_id (after the id)
UNIT_COLUMNS: tuple[str, ...] = ("st", "cu", "wh", "own_pr", "own_bt")
#: batch attribute arrays and their columns in trace_index.batches / batches_by_id (qty apart)
BATCH_COLUMNS: dict[str, str] = {"b_pr": "pr", "b_kind": "k", "b_uom": "u", "b_sa": "sa", "b_st": "st"}


class _Vocab:
    """Strings to int32 codes (0 = missing): node keys in bulk, then attribute columns. Given an
    index, it extends that index's vocabulary for a patch, keeping only the new words (the
    index's are not copied: at 1M units they are a million keys)."""

    def __init__(self, base: TraceIndex | None = None) -> None:
        self.base_words = base.vocab if base is not None else np.array([None], dtype=object)
        self.base_codes: dict[str, int] = base.codes if base is not None else {}
        self.words: list[str] = []        # new words, coded from len(base_words) on
        self.codes: dict[str, int] = {}   # new words -> code

    def keys(self, keys: list[str], reverse: bool = True) -> np.ndarray:
        """Codes for a block of distinct node keys (one bulk dict update, not one call each).
        `reverse=False`: the text is never looked up (saves a dict of 10M entries at 10M units)."""
        start = len(self.base_words) + len(self.words)
        self.words.extend(keys)
        if reverse:
            self.codes.update(zip(keys, range(start, start + len(keys))))
        return np.arange(start, start + len(keys), dtype=np.int32)

    def column(self, values: list[Any]) -> np.ndarray:
        """Codes for one attribute column (a million values: one pass, no call per value)."""
        base, new, words, n0 = self.base_codes.get, self.codes, self.words, len(self.base_words)
        out: list[int] = []
        append = out.append
        for v in values:
            if v is None or v == "":
                append(0)
                continue
            if v.__class__ is not str:
                v = str(v)
            c = base(v)
            if c is None:
                c = new.get(v)
                if c is None:
                    c = new[v] = n0 + len(words)
                    words.append(v)
            append(c)
        return np.array(out, dtype=np.int32)

    def result(self) -> tuple[np.ndarray, dict[str, int]]:
        """(vocabulary array, text -> code) including the new words."""
        if not self.words:
            return self.base_words, self.base_codes
        vocab = np.concatenate([self.base_words, np.array(self.words, dtype=object)])
        return vocab, ({**self.base_codes, **self.codes} if self.base_codes else self.codes)


def head_seq(store: GraphStore) -> int:
    """The audit head's seq (-1 when the graph has no audit head: nothing was ever written
    through the audit chain, e.g. a benchmark plant loaded in bulk)."""
    ro = getattr(store, "ro_command", None)
    if ro is not None:
        # FalkorDB: the raw compact reply, no row decoding: this probe runs before every indexed
        # answer, and at ~0.2 ms it is a fifth of a lot impact's budget
        from tracegraph import queries

        reply = ro(queries.load("audit.head"))
        rows = reply[1] if len(reply) >= 3 else []
        return int(rows[0][0][1]) if rows and rows[0][0][1] is not None else -1
    rows = store.read("audit.head")
    return int(rows[0]["seq"]) if rows and rows[0].get("seq") is not None else -1


def _strings(store: GraphStore, query_name: str, **params: Any) -> list[list[Any]]:
    """Rows of a build query whose columns are strings (or null), as lists.

    FalkorDB: the verbose reply format, where a string arrives as one value instead of a
    [type, value] pair: measured ~4x less client time for a million values (100k units, six
    columns: 0.32 s vs 1.28 s). Elsewhere (Neo4j): `store.read`."""
    ro = getattr(store, "ro_command", None)
    if ro is not None:
        from tracegraph import queries

        # a page of a big plant can take longer than an interactive query may
        timeout_s = max(float(getattr(store, "query_timeout_s", 60.0)), 600.0)
        reply = ro(queries.load(query_name), params or None, compact=False, timeout_s=timeout_s)
        return reply[1] if len(reply) >= 3 else []
    return [list(r.values()) for r in store.read(query_name, **params)]


def _pages(store: GraphStore, query_name: str, page: int) -> Iterator[list[list[Any]]]:
    """A big build query in pages of `page` rows (SKIP/LIMIT over the same scan), so that a
    10M-unit plant never holds its whole reply in memory. A write between pages can shift
    them, but any business write moves the audit head after the seq this build recorded, so
    such an index is stale before its first use, never wrong."""
    skip = 0
    while True:
        rows = _strings(store, query_name, skip=skip, limit=page)
        if rows:
            yield rows
        if len(rows) < page:
            return
        skip += page


#: the build statements for flow edges: (query, source label, edge type, target label); one
#: per label pair (labels() and string building cost FalkorDB 5-10x more server time). Edges of
#: other label pairs are ignored, as the Cypher path ignores them (impact.TARGET_LABEL).
EDGE_QUERIES: tuple[tuple[str, str, str, str], ...] = (
    ("trace_index.edges_lot_consumed", "MaterialLot", "CONSUMED_IN", "Batch"),
    ("trace_index.edges_batch_consumed", "Batch", "CONSUMED_IN", "Batch"),
    ("trace_index.edges_lot_split", "MaterialLot", "SPLIT_INTO", "MaterialLot"),
    ("trace_index.edges_lot_merged", "MaterialLot", "MERGED_INTO", "MaterialLot"),
    ("trace_index.edges_batch_split", "Batch", "SPLIT_INTO", "MaterialLot"),
    ("trace_index.edges_batch_merged", "Batch", "MERGED_INTO", "MaterialLot"),
    ("trace_index.edges_produced", "Batch", "PRODUCED", "Serial"),
    ("trace_index.edges_component", "Serial", "COMPONENT_OF", "Serial"),
)


def build(store: GraphStore, progress: Callable[[str], None] | None = None) -> TraceIndex:
    """Read the flow graph (a dozen statements) into a fresh index tagged with the head seq
    read before any of it.

    Python's cyclic garbage collector is paused meanwhile: the replies are millions of small
    lists, and every collection re-scanned all of them (measured at 1M units: 30 s with the
    collector, see docs/trace.md)."""

    with gc_paused():
        return _build(store, progress)


def _build(store: GraphStore, progress: Callable[[str], None] | None) -> TraceIndex:

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    seq = head_seq(store)
    vocab = _Vocab()
    # nodes: lots, batches, units, numbered in that order (duplicate keys: the first wins)
    lot_keys = list(dict.fromkeys(str(r[0]) for r in _strings(store, "trace_index.lots") if r[0] is not None))
    batch_rows: dict[str, Row] = {}
    for br in read_fast(store, "trace_index.batches"):
        if br["id"] is not None:
            batch_rows.setdefault(str(br["id"]), br)
    batch_keys = list(batch_rows)
    # units: keys kept, attribute columns encoded page by page (their strings are freed at once)
    unit_keys: list[str] = []
    unit_cols: list[list[np.ndarray]] = [[] for _ in UNIT_COLUMNS]
    u0 = len(lot_keys) + len(batch_keys)
    unit_seen: dict[str, int] = {}  # key -> node (units are numbered after lots and batches)
    for rows in _pages(store, "trace_index.serials", PAGE_ROWS):
        keep = []
        for r in rows:
            k = r[0]
            if k is None:
                continue
            k = str(k)
            if k not in unit_seen:
                unit_seen[k] = u0 + len(unit_keys)
                unit_keys.append(k)
                keep.append(r)
        if keep:
            cols = list(zip(*keep))
            for i in range(len(UNIT_COLUMNS)):
                unit_cols[i].append(vocab.column(list(cols[i + 1])))
        del rows, keep
    say(f"units read: {len(unit_keys)}")
    blocks = (lot_keys, batch_keys, unit_keys)
    sizes = [len(b) for b in blocks]
    n = sum(sizes)
    label = np.repeat(np.arange(3, dtype=np.int8), sizes)
    # only batch keys need a reverse code (a unit's batch_id is compared with them)
    kcode = np.concatenate([vocab.keys(lot_keys, reverse=False), vocab.keys(batch_keys),
                            vocab.keys(unit_keys, reverse=False)]) if n else np.zeros(0, np.int32)
    lookup: list[dict[str, int]] = [dict(zip(lot_keys, range(len(lot_keys)))),
                                    dict(zip(batch_keys, range(len(lot_keys), u0))), unit_seen]
    say(f"nodes: {sizes[0]} lots, {sizes[1]} batches, {sizes[2]} units")

    # unit and batch attributes (vocabulary codes per node; 0 where not a unit / batch)
    # Any: spread into TraceIndex(**attrs), whose other fields are not arrays
    attrs: dict[str, Any] = {name: np.zeros(n, np.int32) for name in (*UNIT_COLUMNS, *BATCH_COLUMNS)}
    if unit_keys:
        for name, parts in zip(UNIT_COLUMNS, unit_cols):
            attrs[name][u0:] = np.concatenate(parts)
    del unit_cols
    b_qty = np.full(n, None, dtype=object)
    if batch_rows:
        rows_b = list(batch_rows.values())
        sl = slice(sizes[0], sizes[0] + sizes[1])
        for name, col in BATCH_COLUMNS.items():
            attrs[name][sl] = vocab.column([r[col] for r in rows_b])
        b_qty[sl] = [r["q"] for r in rows_b]
        del rows_b
    del batch_rows

    # flow edges -> CSR
    srcs: list[np.ndarray] = []
    dsts: list[np.ndarray] = []
    typs: list[np.ndarray] = []
    for query, src_label, etype_, dst_label in EDGE_QUERIES:
        a_get, b_get = lookup[LABELS.index(src_label)].get, lookup[LABELS.index(dst_label)].get
        for rows in _pages(store, query, PAGE_ROWS):
            pairs = [(a_get(a), b_get(b)) for a, b in rows]
            del rows
            pairs = [p for p in pairs if p[0] is not None and p[1] is not None]
            if pairs:
                arr = np.array(pairs, dtype=np.int64)
                srcs.append(arr[:, 0])
                dsts.append(arr[:, 1].astype(np.int32))
                typs.append(np.full(arr.shape[0], EDGE_CODE[etype_], np.int8))
    src = np.concatenate(srcs) if srcs else np.zeros(0, np.int64)
    dst = (np.concatenate(dsts) if dsts else np.zeros(0, np.int64)).astype(np.int32)
    typ = np.concatenate(typs) if typs else np.zeros(0, np.int8)
    say(f"edges: {src.shape[0]}")
    order = np.argsort(src, kind="stable")
    src, dst, typ = src[order], dst[order], typ[order]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    produced = typ == EDGE_CODE["PRODUCED"]
    made_by = np.full(n, -1, np.int32)
    # a unit produced by several batches (bad data) keeps the first; the Cypher path keeps the
    # first batch it meets: only which batch is shown can differ, never what is affected
    made_by[dst[produced][::-1]] = src[produced][::-1]
    b_ns = np.bincount(src[produced], minlength=n).astype(np.int32)

    # key ranks per label (answers list ids sorted, as the Cypher path does)
    rank = np.zeros(n, np.int32)
    base = 0
    for b in blocks:
        if b:
            rank[base + np.argsort(np.array(b), kind="stable")] = np.arange(len(b), dtype=np.int32)
        base += len(b)

    customers = {str(r["id"]): r for r in read_fast(store, "trace_index.customers") if r["id"] is not None}
    say(f"customers: {len(customers)}")
    packing = _packing(store, lookup[SERIAL], n)
    say(f"containers: {len(packing.info) if packing else 0}")
    words, codes = vocab.result()
    ix = TraceIndex(
        seq=seq, built_at=time.time(), build_s=0.0, vocab=words, codes=codes,
        label=label, kcode=kcode, rank=rank, lookup=lookup, indptr=indptr, indices=dst, etype=typ,
        made_by=made_by, b_qty=b_qty, b_ns=b_ns, customers=customers, packing=packing,
        _stamp=np.zeros(n, np.int32), **attrs,
    )
    _derive(ix)
    ix.build_s = time.perf_counter() - t0
    return ix


def _packing(store: GraphStore, lookup: dict[str, int], n_nodes: int) -> Packing | None:
    """The packing now: every unit's and container's open links, every chain computed (None when
    there is no container). Only open links: the index answers "now" only (it declines "as of").
    Any write that packs or unpacks is an import or a link, which makes the index rebuild."""
    info: dict[str, dict[str, Any]] = {}
    up: dict[str, list[tuple[str, str, str]]] = {}
    for r in read_fast(store, "trace_index.containers"):
        if r["id"] is None:
            continue
        k = str(r["id"])
        info[k] = {"sscc": r["sscc"], "kind": r["kind"]}
        if r["up"]:
            up[k] = [(str(o), str(f or ""), END) for o, f in r["up"]]
    if not info:
        return None
    units: dict[str, None] = {}
    for rows in _pages(store, "trace_index.packing_units", PAGE_ROWS):
        for uid, box, f in rows:
            if uid is None or box is None:
                continue
            uid = str(uid)
            units[uid] = None
            up.setdefault(uid, []).append((str(box), str(f or ""), END))
    return Packing(up, info).complete(units, lookup, n_nodes)


def _derive(ix: TraceIndex) -> None:
    """The lookups computed from the data (after a build or a patch), so queries do none of it."""
    ix.nonserial = (ix.label == BATCH) & (ix.b_ns == 0) & (ix.b_kind != ix.codes.get("rework", -1))
    n = ix.vocab.shape[0]
    ix.is_held, ix.is_returned, ix.is_in_house = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    for table, words in ((ix.is_held, HELD_STATUSES), (ix.is_returned, RETURNED_STATUSES),
                         (ix.is_in_house, IN_HOUSE_STATUSES)):
        for word in words:
            if word in ix.codes:
                table[ix.codes[word]] = True


# ---------------------------------------------------------------------------------------
# Keeping it in step
# ---------------------------------------------------------------------------------------


@dataclass
class IndexStatus:
    """What `tracegraph trace index status` and /health show."""

    enabled: bool
    mode: str | None = None
    seq: int | None = None
    head: int | None = None
    fresh: bool = False
    building: bool = False
    nodes: int = 0
    edges: int = 0
    build_s: float | None = None
    builds: int = 0
    patches: int = 0
    array_mb: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Holder:
    """One store's index, its mode and its (re)build state."""

    def __init__(self, mode: Mode) -> None:
        self.mode: Mode = mode
        self.index: TraceIndex | None = None
        self.building = False
        self.builds = 0
        self.patches = 0
        self.error: str | None = None
        self.failed_at = 0.0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def rebuild(self, store: GraphStore, *, inline: bool = False, known: _Known | None = None) -> None:
        with self.lock:
            if self.building or time.monotonic() - self.failed_at < RETRY_AFTER_FAILURE_S:
                return
            self.building = True
            self.done.clear()
        if self.mode == "inline" or inline:
            self._run(store, known=known)
        else:
            threading.Thread(target=self._run, args=(store,), kwargs={"known": known},
                             name="tracegraph-trace-index", daemon=True).start()

    def _run(self, store: GraphStore, full: bool = False, known: _Known | None = None) -> None:
        try:
            old = self.index
            ix = patch(store, old, known) if old is not None and not full else None
            if ix is None:
                ix = build(store)
                self.builds += 1
            elif ix is not old:
                self.patches += 1
            self.index, self.error = ix, None
        except Exception as exc:  # the Cypher path answers meanwhile; the error is shown in status
            self.error = f"{type(exc).__name__}: {exc}"
            self.failed_at = time.monotonic()
        finally:
            with self.lock:
                self.building = False
            self.done.set()


_HOLDERS: weakref.WeakKeyDictionary[Any, _Holder] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def enable(store: GraphStore, mode: Mode = "background", *, wait: bool = False, timeout_s: float | None = None) -> None:
    """Keep a trace index for this store (idempotent). `background`: (re)builds run in a thread
    while the Cypher path answers; `inline`: the first query after a write rebuilds before
    answering. `wait`: block until the first build is done."""
    with _GUARD:
        h = _HOLDERS.get(store)
        if h is None:
            h = _HOLDERS[store] = _Holder(mode)
        h.mode = mode
    if h.index is None:
        h.rebuild(store)
    if wait:
        h.done.wait(timeout_s)


def refresh(store: GraphStore, mode: Mode | None = None) -> TraceIndex:
    """Rebuild now and wait for it (after writes that bypass the audit chain, e.g. a bulk-loaded
    benchmark plant or test scaffolding, which the head check cannot see). Enables the index
    (inline unless `mode` says otherwise) if the store had none."""
    with _GUARD:
        h = _HOLDERS.get(store)
        if h is None:
            h = _HOLDERS[store] = _Holder(mode or "inline")
        elif mode:
            h.mode = mode
    while True:
        with h.lock:
            if not h.building:
                h.building = True
                h.done.clear()
                break
        h.done.wait()
    h._run(store, full=True)  # never a patch: what changed did not go through the audit chain
    if h.index is None:
        raise RuntimeError(f"trace index build failed: {h.error}")
    return h.index


def disable(store: GraphStore) -> None:
    with _GUARD:
        _HOLDERS.pop(store, None)


@dataclass
class _Plan:
    """What the audit entries since the index's seq changed, as far as the index is concerned."""

    units: set[str] = field(default_factory=set)
    batches: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    recalls: set[str] = field(default_factory=set)

    def empty(self) -> bool:
        return not (self.units or self.batches or self.customers or self.recalls)

    def small(self) -> bool:
        """Cheap enough to apply before answering, even in a server (a few indexed reads)."""
        return not self.recalls and len(self.units) + len(self.batches) + len(self.customers) <= INLINE_PATCH_MAX


def _plan(store: GraphStore, after: int, upto: int) -> _Plan | None:
    """Read the audit entries in (after, upto] and say which held records they changed; None
    when one of them may have changed the structure (new nodes or flow edges: an import, a
    create, a link, anything not known), so only a full build is safe."""

    if upto < after or upto - after > MAX_ENTRIES_CHECKED:
        return None
    rows = read_fast(store, "trace_index.entries_since", after=after, upto=upto)
    if len(rows) != upto - after:
        return None
    plan = _Plan()
    for r in rows:
        label, action, key = r["label"], str(r["action"] or ""), r["key"]
        if label in UNTOUCHED_LABELS:
            continue
        if label == "MaterialLot" and action in PROPERTY_ACTIONS:
            continue  # the index holds no lot properties (a lot's links and creation do matter)
        if label == "Recall" and key:
            plan.recalls.add(str(key))  # returns, quarantine, cancel change covered units / batches
        elif label in PROPERTY_LABELS and action in PROPERTY_ACTIONS and key:
            getattr(plan, PROPERTY_LABELS[label]).add(str(key))
        else:
            return None
    return plan


@dataclass(frozen=True)
class _Known:
    """A plan already read by `fresh()`: the entries in (after, upto] and what they changed."""

    after: int
    upto: int
    plan: _Plan


def patch(store: GraphStore, ix: TraceIndex, known: _Known | None = None) -> TraceIndex | None:
    """The index brought up to the audit head by re-reading only what changed (property
    changes of units, batches and customers, and the units and batches a recall covers), or
    None when only a full build is safe. Copy on write: queries holding `ix` keep a consistent
    view; the result shares the unchanged arrays (CSR, keys) with it.

    Why: a full build of a 1M-unit plant takes ~18 s; a recall return, a quarantine or a status
    change re-reads a few units (or the recall's covered units) in milliseconds to a second."""

    plan: _Plan | None
    if known is not None and known.after == ix.seq:  # read by fresh() just now: not again
        seq, plan = known.upto, known.plan
    else:
        seq = head_seq(store)  # before any data, as in build()
        if seq == ix.seq:
            return ix
        plan = _plan(store, ix.seq, seq)
    if plan is None:
        return None
    units, batches = set(plan.units), set(plan.batches)
    for rid in sorted(plan.recalls):
        units.update(str(r["id"]) for r in read_fast(store, "recall.covered_ids", id=rid))
        batches.update(str(r["id"]) for r in read_fast(store, "recall.covered_batches", id=rid))
    lk_u, lk_b = ix.lookup[SERIAL], ix.lookup[BATCH]
    if any(k not in lk_u for k in units) or any(k not in lk_b for k in batches):
        return None  # a unit or batch the index has never seen: structure changed
    vocab = _Vocab(ix)
    changed: dict[str, Any] = {}
    if units:
        rows = _strings(store, "trace_index.units_by_id", ids=sorted(units))
        if len(rows) != len(units):
            return None  # a unit disappeared
        nodes = np.array([lk_u[str(r[0])] for r in rows], dtype=np.int64)
        cols = list(zip(*rows))
        for i, name in enumerate(UNIT_COLUMNS):
            arr = getattr(ix, name).copy()
            arr[nodes] = vocab.column(list(cols[i + 1]))
            changed[name] = arr
    if batches:
        rows_b = read_fast(store, "trace_index.batches_by_id", ids=sorted(batches))
        if len(rows_b) != len(batches):
            return None
        nodes = np.array([lk_b[str(r["id"])] for r in rows_b], dtype=np.int64)
        for name, col in BATCH_COLUMNS.items():
            arr = getattr(ix, name).copy()
            arr[nodes] = vocab.column([r[col] for r in rows_b])
            changed[name] = arr
        qty = ix.b_qty.copy()
        qty[nodes] = [r["q"] for r in rows_b]
        changed["b_qty"] = qty
    customers = ix.customers
    if plan.customers:
        customers = dict(ix.customers)
        customers.update({str(r["id"]): r for r in read_fast(store, "trace.customers", ids=sorted(plan.customers))})
    new_vocab, new_codes = vocab.result()
    new = dataclasses.replace(
        ix, seq=seq, vocab=new_vocab, codes=new_codes, customers=customers,
        _stamp=np.zeros(ix.n_nodes, np.int32), _epoch=0, _lock=threading.Lock(), **changed,
    )
    _derive(new)
    return new


def _holder(store: GraphStore) -> _Holder | None:
    try:
        return _HOLDERS.get(store)
    except TypeError:  # a store that cannot be weakly referenced never has an index
        return None


def fresh(store: GraphStore) -> TraceIndex | None:
    """The store's index if it reflects every write so far, else None (and a rebuild starts).

    Costs one indexed lookup of the audit head per call (plus one small read when entries about
    other record kinds were appended since)."""
    h = _holder(store)
    if h is None:
        return None
    ix = h.index
    seq = head_seq(store)
    plan = None
    if ix is not None:
        if ix.seq == seq:
            return ix
        plan = _plan(store, ix.seq, seq) if seq > ix.seq else None
        if plan is not None and plan.empty():
            ix.seq = seq
            return ix
    # a few changed records are patched before answering, even in a server; a recall's covered
    # units or a full build run in the background there (the graph answers meanwhile)
    h.rebuild(store, inline=plan is not None and plan.small(),
              known=_Known(ix.seq, seq, plan) if ix is not None and plan is not None else None)
    ix = h.index
    return ix if ix is not None and ix.seq == seq else None


def status(store: GraphStore, head: int | None = None) -> IndexStatus:
    """The index's state; `head`: the audit head seq if the caller has just read it."""
    h = _holder(store)
    if h is None:
        return IndexStatus(enabled=False)
    ix = h.index
    head = head_seq(store) if head is None else head
    return IndexStatus(
        enabled=True, mode=h.mode, seq=ix.seq if ix else None, head=head, fresh=bool(ix and ix.seq == head),
        building=h.building, nodes=ix.n_nodes if ix else 0, edges=ix.n_edges if ix else 0,
        build_s=round(ix.build_s, 3) if ix else None, builds=h.builds, patches=h.patches,
        array_mb=round(ix.nbytes() / 2**20, 1) if ix else None, error=h.error,
    )


__all__ = ["TraceIndex", "Reach", "build", "patch", "enable", "refresh", "disable", "fresh", "status", "head_seq", "IndexStatus",
           "UNTOUCHED_LABELS", "LABELS", "EDGE_CODE"]
