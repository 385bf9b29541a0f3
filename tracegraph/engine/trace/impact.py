"""Forward trace and impact analysis: from a cause (lots, a supplier's receipts, equipment in a time
window, batches, a document version, a serial range) to every affected lot, batch and unit, where
each unit is now, which customers hold how many, and one provenance path per unit.

Why this shape: the database does the only expensive part, one deduplicated downstream traversal
per seed kind (`queries/trace/forward_*.cypher`, shared inputs and rework loops visited once),
and returns the reached subgraph compactly with each node's outgoing edges. Python then walks that
small subgraph once (breadth-first, so cycles end and every node gets its shortest provenance path),
applies depth / edge-type limits and the "as of" shipment history, and adds up quantities so that
the totals always reconcile (sum per status == total; sum per customer == units held by customers).

Speed (docs/trace.md "Why it is fast"): moving a 30k-unit answer into Python, not the traversal,
was the cost, so replies are decoded directly from FalkorDB's compact format (`read_fast`), units
travel as one string each, independent statements share one round trip (`read_fast_many`), and
the cyclic garbage collector is paused while an answer is built.
"""

from __future__ import annotations

import heapq
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from tracegraph.engine.errors import NotFound, ValidationFailed
from tracegraph.engine.stores.base import GraphStore, Row
from tracegraph.engine.trace import containers
from tracegraph.engine.trace.fast import build_model, gc_paused, read_fast, read_fast_many
from tracegraph.engine.trace.models import (
    FORWARD_EDGES,
    HELD_STATUSES,
    RETURNED_STATUSES,
    AffectedBatch,
    AffectedLot,
    AffectedSerial,
    Contact,
    CustomerImpact,
    ImpactCause,
    ImpactOptions,
    ImpactResult,
    ProductImpact,
    QuantityRow,
)
from tracegraph.engine.trace.packing import Packing
from tracegraph.engine.trace.seeds import NodeKey, as_of_key, find_seeds, query_echo

if TYPE_CHECKING:
    from tracegraph.engine.trace.impact_index import ImpactFrame


#: the label an edge of this type points to (all flow edges have one target label)
TARGET_LABEL = {
    "CONSUMED_IN": "Batch",
    "SPLIT_INTO": "MaterialLot",
    "MERGED_INTO": "MaterialLot",
    "PRODUCED": "Serial",
    "COMPONENT_OF": "Serial",
}

# positions in one `out` entry of queries/trace/forward_tail.cypher
_TYPE, _MID, _QTY, _DATE, _DELIVERED, _CUST, _FROM, _DISP, _AT = range(9)
_U_BT, _U_ST, _U_CU, _U_WH, _U_PR = range(5)  # positions in a `units` tuple
_PAD: list[Any] = [None] * 9  # flow edges come as [type, id, qty]: padded to the full width
#: separates the fields of one unit in `forward_material`'s `us` strings (never in an id or status)
_SEP = "\x1f"


def _le(value: str | None, bound: str) -> bool:
    return value is not None and str(value) <= bound


# ---------------------------------------------------------------------------------------
# The reached subgraph
# ---------------------------------------------------------------------------------------

def _fetch_material(store: GraphStore, seeds: Iterable[NodeKey]) -> dict[NodeKey, Row]:
    """Lots and batches downstream of the lot / batch seeds, each with its parsed out-edges."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for label, id_ in seeds:
        by_label[label].append(id_)
    query = {"MaterialLot": "trace.forward_lots", "Batch": "trace.forward_batches"}
    nodes: dict[NodeKey, Row] = {}
    for label, ids in by_label.items():
        if label not in query:
            continue
        for row in read_fast(store, query[label], ids=sorted(set(ids)), sep=_SEP):
            row["out"] = [e + _PAD[len(e):] for e in row["out"] if e]
            row["ns"] = 0
            nodes[(row["l"], row["id"])] = row
    return nodes


class _Walk:
    """Breadth-first over the reached subgraph: shortest depth and one parent per node.

    Material nodes (lots, batches) first, from the database's deduplicated traversal; then the
    units, which only lead to other units (COMPONENT_OF), seeded at their batch's depth + 1."""

    def __init__(self, options: ImpactOptions) -> None:
        self.allowed = set(options.edge_types or FORWARD_EDGES)
        self.max_depth = options.max_depth
        self.depth: dict[NodeKey, int] = {}
        self.parent: dict[NodeKey, NodeKey | None] = {}

    def _room(self, d: int) -> bool:
        return self.max_depth is None or d < self.max_depth

    def material(self, nodes: dict[NodeKey, Row], seeds: Iterable[NodeKey]) -> None:
        queue: deque[NodeKey] = deque()
        for s in sorted(seeds):
            if s in nodes and s not in self.depth:
                self.depth[s], self.parent[s] = 0, None
                queue.append(s)
        while queue:
            u = queue.popleft()
            du = self.depth[u]
            if not self._room(du):
                continue
            for e in nodes[u]["out"]:
                t = e[_TYPE]
                if t not in self.allowed or t not in TARGET_LABEL:
                    continue
                v = (TARGET_LABEL[t], e[_MID])
                if v in self.depth or v not in nodes:
                    continue
                self.depth[v], self.parent[v] = du + 1, u
                queue.append(v)

    def units(self, start: list[tuple[int, str, int, NodeKey | None]], assemblies: dict[str, list[str]]) -> None:
        """`start`: (depth, serial id, tie-break, parent) candidates; `assemblies`: component -> assemblies."""
        follow = "COMPONENT_OF" in self.allowed
        # A unit that only its batch reaches (no seed, no assembly of a reached component: ~97%)
        # has exactly one candidate, so its depth is final without the heap; its assemblies are
        # queued as it would queue them when popped (same entries, same order: same answer).
        assembled = {a for comps in assemblies.values() for a in comps}
        counts: dict[str, int] = defaultdict(int)
        for _, sid, _, _ in start:
            counts[sid] += 1
        heap: list[tuple[int, str, int, NodeKey | None]] = []
        depth, parent = self.depth, self.parent
        for item in start:
            d, sid, _, par = item
            if counts[sid] > 1 or sid in assembled:
                heap.append(item)
                continue
            k = ("Serial", sid)
            depth[k], parent[k] = d, par
            if follow and sid in assemblies and self._room(d):
                heap.extend((d + 1, a, 2, k) for a in assemblies[sid])
        heapq.heapify(heap)
        while heap:
            d, sid, _, par = heapq.heappop(heap)
            k = ("Serial", sid)
            if k in self.depth:
                continue
            self.depth[k], self.parent[k] = d, par
            if follow and self._room(d):
                for a in assemblies.get(sid, ()):
                    if ("Serial", a) not in self.depth:
                        heapq.heappush(heap, (d + 1, a, 2, k))


class _Paths:
    """Provenance paths from the cause to a node, memoised along the parent chain."""

    def __init__(self, parent: dict[NodeKey, NodeKey | None], seeds: dict[NodeKey, list[str]]) -> None:
        self.parent, self.seeds = parent, seeds
        self.memo: dict[NodeKey, list[str]] = {}

    def __call__(self, node: NodeKey) -> list[str]:
        chain: list[NodeKey] = []
        cur: NodeKey | None = node
        while cur is not None and cur not in self.memo:
            chain.append(cur)
            p = self.parent.get(cur)
            if p is None:
                self.memo[cur] = list(self.seeds[cur])
                chain.pop()
                break
            cur = p
        for n in reversed(chain):
            p = self.parent[n]
            assert p is not None
            self.memo[n] = self.memo[p] + [n[1]]
        return self.memo[node]


# ---------------------------------------------------------------------------------------
# Where a unit is
# ---------------------------------------------------------------------------------------


def _kind_status(kind: str | None) -> str:
    return "at_distributor" if kind == "distributor" else "at_end_user"


def classify_serial(
    out: list[list[Any]], bound: str, kinds: dict[str, str | None]
) -> tuple[str, str | None, str | None, str | None]:
    """(status, customer, shipment, date) of a serial from its history up to `bound`.

    The latest shipment dated <= bound decides (delivered if delivered_at <= bound, else in
    transit; the destination's kind picks distributor vs end user); a return dated on or after it
    wins; with no shipment, a COMPONENT_OF edge means consumed, otherwise in stock."""
    ships = [e for e in out if e[_TYPE] == "SHIPPED_IN" and _le(e[_DATE], bound)]
    rets = [e for e in out if e[_TYPE] == "RETURNED_IN" and _le(e[_DATE], bound)]
    last_ship = max(ships, key=lambda e: (str(e[_DATE]), str(e[_DELIVERED] or ""), str(e[_MID]))) if ships else None
    last_ret = max(rets, key=lambda e: (str(e[_DATE]), str(e[_MID]))) if rets else None
    if last_ret is not None and (last_ship is None or str(last_ret[_DATE]) >= str(last_ship[_DATE])):
        status = "destroyed" if last_ret[_DISP] == "destroyed" else "returned"
        return status, last_ret[_CUST], last_ret[_MID], last_ret[_DATE]
    if last_ship is not None:
        if _le(last_ship[_DELIVERED], bound):
            status = _kind_status(kinds.get(last_ship[_CUST]))
        else:
            status = "in_transit"
        return status, last_ship[_CUST], last_ship[_MID], last_ship[_DATE]
    if any(e[_TYPE] == "COMPONENT_OF" and (e[_AT] is None or str(e[_AT]) <= bound) for e in out):
        return "consumed", None, None, None
    return "in_stock", None, None, None


def _last_shipment(out: list[list[Any]]) -> tuple[str | None, str | None]:
    ships = [e for e in out if e[_TYPE] == "SHIPPED_IN" and e[_DATE] is not None]
    if not ships:
        return None, None
    e = max(ships, key=lambda e: (str(e[_DATE]), str(e[_MID])))
    return e[_MID], e[_DATE]


def batch_quantities(
    row: Row, bound: str, kinds: dict[str, str | None]
) -> list[tuple[str, float, str | None, str | None, str | None]]:
    """Where the quantity of a non-serialised batch is: (status, qty, customer, shipment, date) rows.

    Shipments from our site leave stock; a shipment whose `from_id` is a customer is a transfer
    and moves quantity from that customer; returns take it from the returning customer."""
    out = row["out"]
    total = float(row.get("q") or 0)
    consumed = sum(float(e[_QTY] or 0) for e in out if e[_TYPE] == "CONSUMED_IN")
    ships = sorted((e for e in out if e[_TYPE] == "SHIPPED_IN" and _le(e[_DATE], bound)),
                   key=lambda e: (str(e[_DATE]), str(e[_MID])))
    dests = {e[_CUST] for e in ships}
    held: dict[str, float] = defaultdict(float)
    held_ref: dict[str, tuple[str, str]] = {}
    transit: dict[tuple[str, str, str], float] = defaultdict(float)
    from_site = 0.0
    for e in ships:
        q = float(e[_QTY] or 0)
        if e[_FROM] in dests and e[_FROM] != e[_CUST]:
            held[e[_FROM]] -= q
        else:
            from_site += q
        if _le(e[_DELIVERED], bound):
            held[e[_CUST]] += q
            held_ref[e[_CUST]] = (e[_MID], e[_DATE])
        else:
            transit[(e[_CUST], e[_MID], e[_DATE])] += q
    returned: dict[tuple[str, str | None, str, str], float] = defaultdict(float)
    for e in out:
        if e[_TYPE] == "RETURNED_IN" and _le(e[_DATE], bound):
            q = float(e[_QTY] or 0)
            if e[_CUST] is not None:
                held[e[_CUST]] -= q
            st = "destroyed" if e[_DISP] == "destroyed" else "returned"
            returned[(st, e[_CUST], e[_MID], e[_DATE])] += q
    rows: list[tuple[str, float, str | None, str | None, str | None]] = []
    in_stock = total - consumed - from_site
    if in_stock > 0:
        rows.append(("in_stock", in_stock, None, None, None))
    if consumed > 0:
        rows.append(("consumed", consumed, None, None, None))
    for cust in sorted(held):
        if held[cust] > 0:
            ref = held_ref.get(cust, (None, None))
            rows.append((_kind_status(kinds.get(cust)), held[cust], cust, ref[0], ref[1]))
    for (cust, sh, dt), q in sorted(transit.items(), key=lambda kv: tuple(map(str, kv[0]))):
        if q > 0:
            rows.append(("in_transit", q, cust, sh, dt))
    for (st, from_cust, rid, dt), q in sorted(returned.items(), key=lambda kv: tuple(map(str, kv[0]))):
        if q > 0:
            rows.append((st, q, from_cust, rid, dt))
    return rows


# ---------------------------------------------------------------------------------------
# The public functions
# ---------------------------------------------------------------------------------------


#: which path answers: "auto" (the trace index when fresh and able, else the graph), "index"
#: (the index or an error: for cross-checks), "cypher" (always the graph)
Engine = Literal["auto", "index", "cypher"]


def impact(store: GraphStore, cause: ImpactCause, options: ImpactOptions | None = None,
           engine: Engine = "auto") -> ImpactResult:
    """Everything a cause reached and where it is now (or `options.as_of`), with totals that add up.

    Answered from the trace index when the store keeps one and it reflects every write so far
    (engine/trace/index.py), else (or when the index declines the question) from the graph."""
    t0 = time.perf_counter()
    with gc_paused():
        res: ImpactResult | None = None
        packing: Packing | None = None
        if engine != "cypher":
            fr = impact_frame(store, cause, options, t0=t0, strict=engine == "index")
            if fr is not None:
                res, packing = fr.result(), fr.ix.packing
        indexed = res is not None
        reads = containers.UnitReads()
        if res is None:
            res = _impact(store, cause, options, reads)
        # containers holding the units, the container that carried each, every holder: one step
        # on either engine's answer (engine/trace/containers.py); the index holds the packing,
        # the graph engine's units are read through the batches that produced them
        opts = options or ImpactOptions()
        containers.attach(store, res, as_of_key(opts.as_of) if opts.as_of else None,
                          history=bool(opts.as_of or opts.with_history), packing=packing, indexed=indexed,
                          reads=None if indexed else reads)
        res.elapsed_ms = round((time.perf_counter() - t0) * 1000, 3)
        return res


def impact_frame(store: GraphStore, cause: ImpactCause, options: ImpactOptions | None = None,
                 *, t0: float | None = None, strict: bool = False) -> ImpactFrame | None:
    """The impact as arrays from a fresh trace index, or None when there is no fresh index or it
    declines this question (then `impact()` asks the graph). Why separate: the totals and the
    reached ids cost milliseconds even for 30k units; building one object per unit costs more
    than that, so callers that need only ids and totals (benchmarks, counts) stop here."""
    from tracegraph.engine.trace import index as trace_index
    from tracegraph.engine.trace.impact_index import IndexDeclined, frame

    options = options or ImpactOptions()
    if cause.is_empty():
        return None
    ix = trace_index.fresh(store)
    if ix is None:
        if strict:
            raise ValidationFailed("no fresh trace index for this database",
                                   hint="enable it (TRACEGRAPH_TRACE_INDEX=on) or use engine 'auto'")
        return None
    try:
        with gc_paused():
            return frame(store, ix, cause, options, t0)
    except IndexDeclined as exc:
        if strict:
            raise ValidationFailed(f"the trace index cannot answer this: {exc}", hint="use engine 'auto'") from None
        return None


def _impact(store: GraphStore, cause: ImpactCause, options: ImpactOptions | None,
            reads: containers.UnitReads | None = None) -> ImpactResult:
    """The graph engine's answer; `reads` (when given) receives, for the containers step, batch ->
    the units it PRODUCED and each unit's container now (`container_id`), as read here, and whether
    the plant has any container (asked in the assemblies' round trip)."""
    t0 = time.perf_counter()
    options = options or ImpactOptions()
    if cause.is_empty():
        raise ValidationFailed(
            "no cause given",
            hint="name at least one lot, supplier, equipment, batch, document or serial range",
        )
    seeds, explicit = find_seeds(store, cause)
    nodes = _fetch_material(store, seeds)
    walk = _Walk(options)
    walk.material(nodes, [k for k in seeds if k[0] != "Serial"])
    depth, parent = walk.depth, walk.parent

    # units: serials of the reached batches (one statement), then assemblies (one statement)
    serial_seeds = sorted(k[1] for k in seeds if k[0] == "Serial")
    reached_batches = sorted(k[1] for k in depth if k[0] == "Batch")
    # units: serial id -> (batch, status, customer, warehouse, product); tuples, not dicts: 30k
    # of them per supplier-wide answer
    units: dict[str, tuple[Any, ...]] = {}
    by_batch: dict[str, list[str]] = {}
    boxes: dict[str, str] = reads.box if reads is not None else {}  # unit -> its container now
    sep = _SEP
    for bid in reached_batches:
        row = nodes[("Batch", bid)]
        if not row["us"]:
            continue
        pr = row["pr"]
        ids = []
        for u in row["us"]:
            sid, st_, cu, wh, bx = u.rsplit(sep, 4)
            ids.append(sid)
            if bx:
                boxes[sid] = bx
            units[sid] = (bid, st_ or None, cu or None, wh or None, pr)
        row["ns"] = len(ids)
        by_batch[bid] = ids
    if reads is not None:
        reads.produced.update(by_batch)
        reads.boxed = True  # every unit's container_id comes with it, here or with the assemblies
    produce = "PRODUCED" in walk.allowed
    bids = [b for b in reached_batches if b in by_batch and produce and walk._room(depth[("Batch", b)])]
    assemblies: dict[str, list[str]] = defaultdict(list)
    component_at: dict[str, list[str | None]] = defaultdict(list)
    # the customers holding the batches' units are known now: ask for them in the same round
    # trip as the assemblies (the few extra ones assemblies or history bring come later)
    asked: set[str] = {u[_U_CU] for u in units.values() if u[_U_CU]}
    calls: list[tuple[str, dict[str, Any]]] = []
    if by_batch or serial_seeds:
        calls.append(("trace.assemblies", {"bids": sorted(by_batch), "sids": serial_seeds}))
    if asked:
        calls.append(("trace.customers", {"ids": sorted(asked)}))
    # and the containers step's own (engine/trace/containers.py), taken off the end of the answers
    mine = containers.ask(reads, now=options.as_of is None and options.serial_limit != 0)
    answers = read_fast_many(store, calls + mine)
    containers.take(reads, answers, mine)
    cust_rows: dict[str, Row] = {r["id"]: r for r in answers[-1]} if asked else {}
    if by_batch or serial_seeds:
        for row in answers[0]:
            units.setdefault(row["id"], (row["bt"], row["st"], row["cu"], row["wh"], row["pr"]))
            if row["bx"]:
                boxes[row["id"]] = row["bx"]
            for cid, at in row["comps"]:
                if cid:
                    assemblies[cid].append(row["id"])
                    component_at[cid].append(at)
    missing = [k for k in explicit if (k not in nodes if k[0] != "Serial" else k[1] not in units)]
    if missing:
        names = ", ".join(f"{lbl} {i!r}" for lbl, i in missing)
        raise NotFound(f"not found: {names}", hint="keys are business keys as imported (lot code, batch id, serial)")
    start: list[tuple[int, str, int, NodeKey | None]] = [(0, sid, 0, None) for sid in serial_seeds]
    for bid in bids:
        bk = ("Batch", bid)
        start.extend((depth[bk] + 1, sid, 1, bk) for sid in by_batch.get(bid, ()))
    walk.units(start, assemblies)

    paths = _Paths(parent, seeds)
    with_paths = options.include_paths
    bound = as_of_key(options.as_of)
    current = options.as_of is None

    reached = sorted(depth)
    lot_keys = [k for k in reached if k[0] == "MaterialLot"]
    batch_keys = [k for k in reached if k[0] == "Batch"]
    serial_keys = [k for k in reached if k[0] == "Serial"]
    # batch-level quantities for batches without serials; a rework batch re-processes units that
    # are already counted in the batch they came from, so it adds no quantity of its own
    nonserial = [k for k in batch_keys if nodes[k]["k"] != "rework" and not nodes[k]["ns"]]

    # unit history (shipments, returns, components) only when a question needs it
    history: dict[str, list[list[Any]]] = defaultdict(list)
    need_history = (not current or options.with_history
                    or any(not units[k[1]][_U_ST] for k in serial_keys))
    if need_history and serial_keys:
        carriers: dict[str, list[list[Any]]] = defaultdict(list)
        for h in read_fast(store, "trace.unit_history", sids=[k[1] for k in serial_keys])[0]["h"]:
            history[h[0]].append(list(h[1:9]) + [None])
            carriers[h[0]].append([h[0], h[1], h[2], h[4], h[5], h[6], h[9]])  # as trace.unit_carriers
        if reads is not None:
            reads.carriers = carriers
        for k in serial_keys:
            for a_id, at in zip(assemblies.get(k[1], ()), component_at.get(k[1], ())):
                history[k[1]].append(["COMPONENT_OF", a_id, None, None, None, None, None, None, at])

    # customers whose kind we need (as-of and batch-level rows classify by destination kind)
    wanted: set[str] = set()
    wanted.update(u[_U_CU] for u in map(units.__getitem__, (k[1] for k in serial_keys)) if u[_U_CU])
    for out in history.values():
        wanted.update(e[_CUST] for e in out if e[_CUST])
    for k in nonserial:
        wanted.update(e[_CUST] for e in nodes[k]["out"] if e[_TYPE] in ("SHIPPED_IN", "RETURNED_IN") and e[_CUST])
    wanted -= asked
    if wanted:
        cust_rows.update({r["id"]: r for r in read_fast(store, "trace.customers", ids=sorted(wanted))})
    kinds = {cid: r.get("kind") for cid, r in cust_rows.items()}

    by_status: dict[str, float] = defaultdict(float)
    per_customer: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_product: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_batch: dict[str, float] = defaultdict(float)

    serials: list[AffectedSerial] = []
    limit = options.serial_limit
    n_serials = 0
    held = HELD_STATUSES
    skip_returned = not options.include_returned
    # per-unit tallies as flat tuple-keyed counters (folded into the nested views below)
    t_product: dict[tuple[str, str], int] = defaultdict(int)
    t_batch: dict[str, int] = defaultdict(int)
    t_customer: dict[tuple[str, str], int] = defaultdict(int)
    for k in serial_keys:
        sid = k[1]
        bt, st_, cu, wh, product = units[sid]
        if current and st_:
            status, customer = st_, cu
            shipment, date = _last_shipment(history[sid]) if need_history else (None, None)
        else:
            status, customer, shipment, date = classify_serial(history.get(sid, []), bound, kinds)
        if skip_returned and status in RETURNED_STATUSES:
            continue
        n_serials += 1
        t_product[(product or "?", status)] += 1
        if bt:
            t_batch[bt] += 1
        if customer and status in held:
            t_customer[(customer, status)] += 1
        if limit is None or len(serials) < limit:
            serials.append(build_model(AffectedSerial, {
                "id": sid, "batch": bt, "product": product, "status": status, "customer": customer,
                "warehouse": wh if status in ("in_stock", "quarantined") else None,
                "shipment": shipment, "date": date, "depth": depth[k], "path": paths(k) if with_paths else [],
                "container": None, "via": None, "holders": [],  # the containers step fills them
            }))
    for (product, status), n in t_product.items():
        by_status[status] += n
        per_product[product][status] += n
    for bt, n in t_batch.items():
        per_batch[bt] += n
    for (customer, status), n in t_customer.items():
        per_customer[customer][status] += n

    quantities: list[QuantityRow] = []
    for k in nonserial:
        row = nodes[k]
        bpath = paths(k) if with_paths else []
        for status, qty, customer, ref, date in batch_quantities(row, bound, kinds):
            if not options.include_returned and status in RETURNED_STATUSES:
                continue
            by_status[status] += qty
            per_product[row["pr"] or "?"][status] += qty
            per_batch[k[1]] += qty
            if customer and status in HELD_STATUSES:
                per_customer[customer][status] += qty
            quantities.append(QuantityRow.model_construct(
                batch=k[1], product=row["pr"], status=status, qty=qty, uom=row["u"], customer=customer,
                shipment=ref, date=date, path=bpath,
            ))

    batches = [
        AffectedBatch.model_construct(
            id=k[1], product=nodes[k]["pr"], kind=nodes[k]["k"], qty=nodes[k]["q"], uom=nodes[k]["u"],
            started_at=nodes[k]["sa"], status=nodes[k]["st"], serialised=bool(nodes[k]["ns"]),
            units=per_batch.get(k[1], 0), depth=depth[k], path=paths(k) if with_paths else [],
        )
        for k in batch_keys
    ]
    lots = [AffectedLot.model_construct(id=k[1], depth=depth[k], path=paths(k) if with_paths else [])
            for k in lot_keys]

    customers: list[CustomerImpact] = []
    for cid, sts in per_customer.items():
        c = cust_rows.get(cid, {})
        customers.append(CustomerImpact(
            id=cid, name=c.get("name"), kind=c.get("kind"), country=c.get("country"), language=c.get("language"),
            units=sum(sts.values()), by_status=dict(sts),
            contact=Contact(name=c.get("contact_name"), email=c.get("contact_email"),
                            phone=c.get("contact_phone"), address=c.get("address")),
        ))
    customers.sort(key=lambda c: (-c.units, c.id))
    by_product = sorted(
        (ProductImpact(id=p, units=sum(s.values()), by_status=dict(s)) for p, s in per_product.items()),
        key=lambda p: (-p.units, p.id),
    )
    total_units = sum(by_status.values())
    truncated = n_serials > len(serials)
    counts: dict[str, int | float] = {
        "lots": len(lot_keys),
        "batches": len(batch_keys),
        "serials": n_serials,
        "units": total_units,
        "units_at_customers": sum(c.units for c in customers),
        "customers": len(customers),
        "products": len(by_product),
    }
    # every part is already a built model of the right type: skip re-validating 30k units
    return ImpactResult.model_construct(
        query=query_echo(cause, options),
        counts=counts,
        by_status={k: by_status[k] for k in sorted(by_status)},
        by_product=by_product,
        lots=lots,
        batches=batches,
        serials=serials,
        quantities=quantities,
        customers=customers,
        truncated=truncated,
        elapsed_ms=round((time.perf_counter() - t0) * 1000, 3),
    )


def forward_trace(store: GraphStore, key: str, **opts: Any) -> ImpactResult:
    """Forward trace from one serial, batch or lot key (or a scanned identifier)."""
    from tracegraph.engine.trace.backward import resolve_key

    label, id_ = resolve_key(store, key)
    cause = {"MaterialLot": ImpactCause(lots=[id_]), "Batch": ImpactCause(batches=[id_]),
             "Serial": ImpactCause(serials=[id_])}[label]
    return impact(store, cause, ImpactOptions(**opts))


__all__ = ["impact", "impact_frame", "forward_trace", "classify_serial", "batch_quantities", "as_of_key", "RETURNED_STATUSES"]
