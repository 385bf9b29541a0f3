"""Forward impact over the trace index (engine/trace/index.py): the same question and the same
answer as the Cypher path in engine/trace/impact.py, computed with numpy over arrays.

Two layers, because the answer's size, not the traversal, dominates large impacts:
- `ImpactFrame`: what was reached and every total (units per status, product, batch and
  customer), as arrays of codes. A supplier-wide impact of 30k units is a few milliseconds here.
- `ImpactFrame.result()`: the full `ImpactResult` contract (one `AffectedSerial` per unit with
  its provenance path), built only when someone wants the objects (CLI, REST, GraphQL,
  spreadsheets, recall snapshots).

The frame covers the common question: units as they are now. It declines (`IndexDeclined`) what
needs data the index does not hold (an "as of" date or shipment history, units without a
status, non-serialised batches whose quantities come from shipments); `impact()` then answers
with the Cypher path, so every answer is complete whichever path gave it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from tracegraph.engine.errors import NotFound
from tracegraph.engine.trace.fast import build_model, build_models
from tracegraph.engine.trace.index import BATCH, EDGE_CODE, LABELS, LOT, SERIAL, TraceIndex
from tracegraph.engine.trace.models import (
    FORWARD_EDGES,
    AffectedBatch,
    AffectedLot,
    AffectedSerial,
    Contact,
    CustomerImpact,
    ImpactCause,
    ImpactOptions,
    ImpactResult,
    ProductImpact,
)
from tracegraph.engine.trace.seeds import NodeKey, find_seeds, query_echo


class IndexDeclined(Exception):
    """The index does not hold what this question needs: answer it with the Cypher path."""


@dataclass
class ImpactFrame:
    """One impact as arrays. Unit arrays (`units`, `u_*`) are aligned and hold every counted
    unit (after `include_returned`), in no particular order."""

    ix: TraceIndex
    cause: ImpactCause
    options: ImpactOptions
    seeds: dict[NodeKey, list[str]]
    reach: Any
    units: np.ndarray          # node ids
    u_depth: np.ndarray
    u_st: np.ndarray           # vocab codes
    u_cu: np.ndarray
    u_bt: np.ndarray
    u_pr: np.ndarray
    lots: np.ndarray           # node ids of reached lots
    lot_depth: np.ndarray
    batches: np.ndarray        # node ids of reached batches
    batch_depth: np.ndarray
    held: np.ndarray           # bool per unit: a customer holds (or is about to hold) it
    t0: float

    # -- answers as plain values (what the benchmark and the counts need) ----------------
    def serial_ids(self) -> list[str]:
        return self.ix.vocab[self.ix.kcode[self.units]].tolist()  # type: ignore[no-any-return]

    def customer_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """(customer vocab codes, units held) over units a customer holds."""
        c = self.u_cu[self.held]
        codes, n = np.unique(c, return_counts=True)
        return codes, n

    def customer_ids(self) -> list[str]:
        return self.ix.vocab[self.customer_codes()[0]].tolist()  # type: ignore[no-any-return]

    def _pairs(self, a: np.ndarray, b: np.ndarray) -> list[tuple[int, int, int]]:
        """(a, b, count) for every distinct pair of codes."""
        if not a.shape[0]:
            return []
        m = self.ix.vocab.shape[0] + 1
        uniq, n = np.unique(a.astype(np.int64) * m + b, return_counts=True)
        return list(zip((uniq // m).tolist(), (uniq % m).tolist(), n.tolist()))

    def counts(self) -> dict[str, int | float]:
        held_n = int(self.held.sum())
        return {
            "lots": int(self.lots.shape[0]), "batches": int(self.batches.shape[0]),
            "serials": int(self.units.shape[0]), "units": float(self.units.shape[0]),
            "units_at_customers": float(held_n), "customers": int(self.customer_codes()[0].shape[0]),
            "products": int(np.unique(self.u_pr).shape[0]),
        }

    # -- the full contract ---------------------------------------------------------------
    def result(self) -> ImpactResult:
        """The `ImpactResult` the Cypher path would give (same totals, same order; a unit
        reachable by several shortest paths may show another one of them)."""
        ix, V, opts = self.ix, self.ix.vocab, self.options
        with_paths = opts.include_paths
        paths = _Paths(ix, self.reach, self.seeds) if with_paths else None
        # totals (floats, as the Cypher path adds them up)
        by_status: dict[str, float] = {}
        per_product: dict[str, dict[str, float]] = {}
        for pr, st, n in self._pairs(self.u_pr, self.u_st):
            status = str(V[st])
            by_status[status] = by_status.get(status, 0.0) + n
            d = per_product.setdefault(str(V[pr]) if pr else "?", {})
            d[status] = d.get(status, 0.0) + n
        per_customer: dict[str, dict[str, float]] = {}
        for cu, st, n in self._pairs(self.u_cu[self.held], self.u_st[self.held]):
            d = per_customer.setdefault(str(V[cu]), {})
            d[str(V[st])] = d.get(str(V[st]), 0.0) + n
        bts, bn = np.unique(self.u_bt[self.u_bt > 0], return_counts=True)
        per_batch = {str(V[b]): float(n) for b, n in zip(bts.tolist(), bn.tolist())}

        # units, sorted by id (the listed ones only: `serial_limit` keeps the totals complete)
        order = np.argsort(ix.rank[self.units], kind="stable")
        n_all = int(order.shape[0])
        if opts.serial_limit is not None:
            order = order[: opts.serial_limit]
        units = self.units[order]
        u_st = self.u_st[order]
        wh = np.where(ix.is_in_house[u_st], ix.wh[units], 0)  # a warehouse only for units in house
        cols = [V[a].tolist() for a in (ix.kcode[units], self.u_bt[order], self.u_pr[order], u_st, self.u_cu[order], wh)]
        unit_paths = [paths(n) for n in units.tolist()] if paths else [[] for _ in range(len(cols[0]))]
        # the container holding each unit now, from the index's packing (the containers step
        # then only groups them: engine/trace/containers.py)
        pk = ix.packing
        boxes = (pk.names[pk.node_box[units]].tolist()
                 if pk is not None and pk.node_box is not None and pk.names is not None else [None] * len(cols[0]))
        serials = build_models(AffectedSerial, [
            {"id": sid, "batch": bt, "product": pr, "status": st, "customer": cu, "warehouse": w, "shipment": None,
             "date": None, "depth": dp, "path": pa, "container": box, "via": None, "holders": []}
            for sid, bt, pr, st, cu, w, dp, pa, box in zip(*cols, self.u_depth[order].tolist(), unit_paths, boxes)
        ])

        b_order = np.argsort(ix.rank[self.batches], kind="stable")
        b_nodes = self.batches[b_order]
        b_cols = [V[a[b_nodes]].tolist() for a in (ix.kcode, ix.b_pr, ix.b_kind, ix.b_uom, ix.b_sa, ix.b_st)]
        batches = [
            build_model(AffectedBatch, {
                "id": bid, "product": pr, "kind": kind, "qty": qty, "uom": uom, "started_at": sa, "status": bst,
                "serialised": ns > 0, "units": per_batch.get(bid, 0), "depth": depth,
                "path": paths(node) if paths else [],
            })
            for node, bid, pr, kind, uom, sa, bst, qty, ns, depth in zip(
                b_nodes.tolist(), *b_cols, ix.b_qty[b_nodes].tolist(), ix.b_ns[b_nodes].tolist(),
                self.batch_depth[b_order].tolist())
        ]
        l_order = np.argsort(ix.rank[self.lots], kind="stable")
        lots = [build_model(AffectedLot, {"id": ix.key(node), "depth": depth, "path": paths(node) if paths else []})
                for node, depth in zip(self.lots[l_order].tolist(), self.lot_depth[l_order].tolist())]

        customers: list[CustomerImpact] = []
        for cid, sts_ in per_customer.items():
            c = ix.customers.get(cid, {})
            customers.append(build_model(CustomerImpact, {
                "id": cid, "name": c.get("name"), "kind": c.get("kind"), "country": c.get("country"),
                "language": c.get("language"), "units": sum(sts_.values()), "by_status": sts_,
                "contact": build_model(Contact, {"name": c.get("contact_name"), "email": c.get("contact_email"),
                                           "phone": c.get("contact_phone"), "address": c.get("address")}),
            }))
        customers.sort(key=lambda c: (-c.units, c.id))
        by_product = sorted((ProductImpact(id=p, units=sum(s.values()), by_status=dict(s))
                             for p, s in per_product.items()), key=lambda p: (-p.units, p.id))
        counts: dict[str, int | float] = {
            "lots": len(lots), "batches": len(batches), "serials": n_all,
            "units": sum(by_status.values()), "units_at_customers": sum(c.units for c in customers),
            "customers": len(customers), "products": len(by_product),
        }
        return ImpactResult.model_construct(
            query=query_echo(self.cause, opts),
            counts=counts,
            by_status={k: by_status[k] for k in sorted(by_status)},
            by_product=by_product, lots=lots, batches=batches, serials=serials, quantities=[],
            customers=customers, truncated=n_all > len(serials),
            engine="index", index_seq=ix.seq,
            elapsed_ms=round((time.perf_counter() - self.t0) * 1000, 3),
        )


class _Paths:
    """Provenance paths (seed prefix + keys down the breadth-first parents), memoised."""

    def __init__(self, ix: TraceIndex, reach: Any, seeds: dict[NodeKey, list[str]]) -> None:
        self.ix = ix
        self.parent = dict(zip(reach.nodes.tolist(), reach.parent.tolist()))
        self.seeds = {ix.node(lbl, key): prefix for (lbl, key), prefix in seeds.items()
                      if lbl in LABELS and ix.node(lbl, key) is not None}
        self.memo: dict[int, list[str]] = {}

    def __call__(self, node: int) -> list[str]:
        chain: list[int] = []
        cur = node
        while cur not in self.memo:
            p = self.parent.get(cur, -1)
            if p < 0:
                self.memo[cur] = list(self.seeds.get(cur, [self.ix.key(cur)]))
                break
            chain.append(cur)
            cur = p
        for n in reversed(chain):
            self.memo[n] = self.memo[self.parent[n]] + [self.ix.key(n)]
        return self.memo[node]


def frame(store: Any, ix: TraceIndex, cause: ImpactCause, options: ImpactOptions, t0: float | None = None) -> ImpactFrame:
    """Reach and totals for one cause over the index (the seeds of supplier, equipment, document
    and serial-range causes come from the graph: small indexed reads)."""
    t0 = time.perf_counter() if t0 is None else t0
    if options.as_of or options.with_history:
        raise IndexDeclined("as_of / with_history need the shipment history")
    seeds, explicit = find_seeds(store, cause)
    missing = [k for k in explicit if ix.node(*k) is None]
    if missing:
        names = ", ".join(f"{lbl} {i!r}" for lbl, i in missing)
        raise NotFound(f"not found: {names}", hint="keys are business keys as imported (lot code, batch id, serial)")
    seed_nodes = [n for n in (ix.node(lbl, key) for lbl, key in seeds if lbl in LABELS) if n is not None]
    allowed = np.zeros(len(FORWARD_EDGES), bool)
    for t in options.edge_types or FORWARD_EDGES:
        allowed[EDGE_CODE[t]] = True
    r = ix.reach(np.array(seed_nodes, dtype=np.int64), allowed, options.max_depth)
    lab = ix.label[r.nodes]
    is_u, is_b = lab == SERIAL, lab == BATCH
    units, u_depth = r.nodes[is_u], r.depth[is_u]
    batches, batch_depth = r.nodes[is_b], r.depth[is_b]
    is_l = lab == LOT
    lots, lot_depth = r.nodes[is_l], r.depth[is_l]
    if batches.shape[0] and ix.nonserial[batches].any():
        raise IndexDeclined("non-serialised batches: quantities come from shipments")
    u_st = ix.st[units]
    if not u_st.all():
        raise IndexDeclined("units without a status are classified from their history")
    # batch and product: from the producing batch when the traversal reached it (as the Cypher
    # path lists a reached batch's units), else the unit's own batch_id / product_id
    made = ix.made_by[units]
    if batches.shape[0]:
        reached_b = np.sort(batches)
        pos = np.searchsorted(reached_b, made).clip(max=reached_b.shape[0] - 1)
        hit = reached_b[pos] == made  # made == -1 never matches a node id
        made = np.where(hit, made, 0)
        u_bt = np.where(hit, ix.kcode[made], ix.own_bt[units])
        u_pr = np.where(hit, ix.b_pr[made], ix.own_pr[units])
    else:
        u_bt, u_pr = ix.own_bt[units], ix.own_pr[units]
    u_cu = ix.cu[units]
    if not options.include_returned:
        gone = ix.is_returned[u_st]
        if gone.any():
            keep = ~gone
            units, u_depth, u_st, u_cu, u_bt, u_pr = (a[keep] for a in (units, u_depth, u_st, u_cu, u_bt, u_pr))
    held = ix.is_held[u_st] & (u_cu > 0)
    return ImpactFrame(ix, cause, options, seeds, r, units, u_depth, u_st, u_cu, u_bt, u_pr,
                       lots, lot_depth, batches, batch_depth, held, t0)


__all__ = ["ImpactFrame", "IndexDeclined", "frame"]
