"""Property test: random small plants (rework cycles, split/merge, sub-assemblies, components,
shipments, transfers, returns, non-serialised batches) are written to the real embedded graph, and
every trace and impact answer is checked against an INDEPENDENT oracle: networkx over the same
in-memory records (tests/plantbuilder.Plant), sharing no code with tracegraph.engine.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantbuilder import Plant
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.engine.trace import index as trace_index
from tracegraph.engine.trace.backward import backward_trace
from tracegraph.engine.trace.impact import impact
from tracegraph.engine.trace.models import ImpactCause, ImpactOptions

FLOW = ("CONSUMED_IN", "SPLIT_INTO", "MERGED_INTO", "PRODUCED", "COMPONENT_OF")
HELD = {"in_transit", "at_distributor", "at_end_user"}
#: which engine answered the property test's questions (the index must answer a share of them)
ANSWERED_BY: dict[str, int] = defaultdict(int)


def day(n: int) -> str:
    return (date(2026, 1, 1) + timedelta(days=n)).isoformat()


def ts(n: int, hour: int = 8) -> str:
    return f"{day(n)}T{hour:02d}:00:00.000000+00:00"


# ---------------------------------------------------------------------------------------
# random plants
# ---------------------------------------------------------------------------------------


def make_plant(seed: int) -> Plant:
    rnd = random.Random(seed)
    p = Plant()
    sups = [p.supplier(f"SUP{i}") for i in range(rnd.randint(1, 3))]
    lots: list[str] = []
    for i in range(rnd.randint(2, 7)):
        lots.append(p.lot(f"LOT{i}", rnd.choice(sups + [None]), date=day(rnd.randint(0, 40))))
    for _ in range(rnd.randint(0, 4)):  # split / merge, cycles allowed (relabel back and forth)
        a, b = rnd.sample(lots, 2)
        (p.split if rnd.random() < 0.5 else p.merge)(a, b, date=day(rnd.randint(0, 40)))
    custs = [p.customer(f"CU{i}", kind=rnd.choice(["distributor", "hospital", "end_user", "distributor"]))
             for i in range(rnd.randint(2, 4))]
    eqs = [p.equipment(f"EQ{i}") for i in range(rnd.randint(1, 2))]
    docs = [p.document("DOC", "1", ts(0), ts(50)), p.document("DOC", "2", ts(50))]
    products = [p.product(f"PR{i}") for i in range(rnd.randint(1, 2))]
    p.documented("Product", products[0], rnd.choice(docs))
    batches: list[str] = []
    serials: list[str] = []
    ship_n = 0
    for i in range(rnd.randint(2, 7)):
        kind = rnd.choice(["finished", "finished", "subassembly", "rework"])
        start = rnd.randint(20, 80)
        bid = p.batch(f"BAT{i}", product=rnd.choice(products), inputs=rnd.sample(lots, rnd.randint(0, 2)),
                      batch_inputs=rnd.sample(batches, min(len(batches), rnd.randint(0, 2))),
                      qty=float(rnd.randint(5, 40)), started_at=ts(start), kind=kind)
        if batches and rnd.random() < 0.3:  # rework loop back into an earlier batch
            p.consume_batch(bid, rnd.choice(batches), qty=1.0)
        batches.append(bid)
        if rnd.random() < 0.7:
            p.processed(bid, rnd.choice(eqs), ts(start, 8), ts(start, 16) if rnd.random() < 0.8 else None)
        if rnd.random() < 0.3:
            p.documented("Batch", bid, rnd.choice(docs))
        n_serials = rnd.choice([0, 0, 1, 2, 3, 4])
        mine = p.serials(bid, n_serials, prefix=f"SN{i}-") if n_serials else []
        if not mine and rnd.random() < 0.7:  # non-serialised shipments by quantity
            q_total = p.get("Batch", bid)["qty"]
            for _ in range(rnd.randint(1, 2)):
                c = rnd.choice(custs)
                ship_n += 1
                d0 = start + rnd.randint(1, 10)
                q = float(rnd.randint(1, int(q_total // 3) or 1))
                delivered = day(d0 + 2) if rnd.random() < 0.8 else None
                p.shipment(f"SHB{ship_n}", c, day(d0), delivered, batches={bid: q})
                if delivered and len(custs) > 1 and rnd.random() < 0.7:
                    c2 = rnd.choice([x for x in custs if x != c])
                    ship_n += 1
                    p.shipment(f"SHB{ship_n}", c2, day(d0 + 4), day(d0 + 5) if rnd.random() < 0.7 else None,
                               batches={bid: float(rnd.randint(1, int(q)))}, from_id=c)
                elif delivered and rnd.random() < 0.3:
                    p.return_(f"RTB{ship_n}", c, day(d0 + 6), batches={bid: 1.0},
                              disposition=rnd.choice(["returned", "destroyed"]))
        for sid in mine:
            _serial_history(p, rnd, sid, start, custs, serials)
        serials.extend(mine)
    return p


def _serial_history(p: Plant, rnd: random.Random, sid: str, start: int, custs: list[str],
                    earlier: list[str]) -> None:
    """Events in strictly increasing days, and the current status the loaders would keep."""
    s = p.get("Serial", sid)
    roll = rnd.random()
    if roll < 0.15 and earlier:  # a component of an earlier serial's assembly... or a later one
        assembly = rnd.choice(earlier)
        p.component(sid, assembly, at=day(start + 1))
        s["status"], s["customer_id"] = "consumed", None
        s.pop("warehouse", None)
        return
    if roll < 0.35:
        s["status"] = rnd.choice(["in_stock", "quarantined"])
        return
    d = start + rnd.randint(1, 5)
    ship_id = f"SH-{sid}"
    c = rnd.choice(custs)
    delivered = rnd.random() < 0.85
    p.shipment(ship_id, c, day(d), day(d + 1) if delivered else None, serials=[sid])
    status, holder = ("in_transit", c) if not delivered else (_kind(p, c), c)
    d += 2
    if delivered and len(custs) > 1 and rnd.random() < 0.4:  # transfer distributor -> next holder
        c2 = rnd.choice([x for x in custs if x != c])
        d += 1
        delivered2 = rnd.random() < 0.8
        p.shipment(f"TR-{sid}", c2, day(d), day(d + 1) if delivered2 else None, serials=[sid], from_id=c)
        status, holder = ("in_transit", c2) if not delivered2 else (_kind(p, c2), c2)
        d += 2
    if status != "in_transit" and rnd.random() < 0.3:
        disp = rnd.choice(["returned", "destroyed"])
        p.return_(f"RT-{sid}", holder, day(d + 1), serials=[sid], disposition=disp)
        status, holder = disp, None
    s["status"], s["customer_id"] = status, holder
    s.pop("warehouse", None)


def _kind(p: Plant, cust: str) -> str:
    return "at_distributor" if p.get("Customer", cust)["kind"] == "distributor" else "at_end_user"


# ---------------------------------------------------------------------------------------
# the oracle (networkx over the records; no engine code)
# ---------------------------------------------------------------------------------------


class Oracle:
    def __init__(self, p: Plant) -> None:
        self.p = p
        self.g = nx.MultiDiGraph()
        for t, fl, fid, tl, tid, props in p.edges:
            if t in FLOW:
                self.g.add_edge(fid, tid, key=t, type=t, **props)
        for label, recs in p.nodes.items():
            for i in recs:
                if label in ("MaterialLot", "Batch", "Serial"):
                    self.g.add_node(i, label=label)
        self.label = {i: lbl for lbl, recs in p.nodes.items() for i in recs}
        self.out: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
        for t, fl, fid, tl, tid, props in p.edges:
            self.out[fid].append((t, tid, props))

    # -- seeds -----------------------------------------------------------------------
    def seeds(self, cause: dict[str, Any]) -> tuple[set[str], list[str]]:
        """(seed ids, prefix before the seed in provenance paths)."""
        p = self.p
        if "lots" in cause:
            return set(cause["lots"]), []
        if "batches" in cause:
            return set(cause["batches"]), []
        if "serials" in cause:
            return set(cause["serials"]), []
        if "supplier" in cause:
            lo, hi = cause.get("supplied_from") or "0000", cause.get("supplied_to") or "9999"
            return {tid for t, fl, fid, tl, tid, pr in p.edges
                    if t == "SUPPLIED" and fid == cause["supplier"] and lo <= pr["date"] <= hi}, [cause["supplier"]]
        if "equipment" in cause:
            lo, hi = cause["window_from"], cause["window_to"]
            return {fid for t, fl, fid, tl, tid, pr in p.edges
                    if t == "PROCESSED_ON" and tid == cause["equipment"] and pr["from"] <= hi
                    and (pr.get("to") is None or pr["to"] >= lo)}, [cause["equipment"]]
        if "document" in cause:
            d = p.get("Document", cause["document"])
            out = {fid for t, fl, fid, tl, tid, pr in p.edges if t == "DOCUMENTED_BY" and fl == "Batch"
                   and tid == d["id"]}
            prods = {fid for t, fl, fid, tl, tid, pr in p.edges if t == "DOCUMENTED_BY" and fl == "Product"
                     and tid == d["id"]}
            for b in p.nodes["Batch"].values():
                if b["product_id"] in prods and d["effective_from"] <= b["started_at"] and (
                        d.get("effective_to") is None or b["started_at"] < d["effective_to"]):
                    out.add(b["id"])
            return out, [cause["document"]]
        if "serial_range" in cause:
            scope, rng = cause["serial_range"].split(":")
            lo, hi = (int(x) for x in rng.split("-"))
            by_batch = {s["id"] for s in p.nodes.get("Serial", {}).values() if s["batch_id"] == scope
                        and lo <= int(s["serial_no"]) <= hi}
            by_gtin = {s["id"] for s in p.nodes.get("Serial", {}).values() if s["gtin"] == scope
                       and lo <= int(s["serial_no"]) <= hi}
            return by_batch | by_gtin, []
        raise AssertionError(cause)

    # -- reach -----------------------------------------------------------------------
    def reach(self, seeds: set[str], max_depth: int | None, edge_types: list[str] | None) -> tuple[dict[str, int], nx.MultiDiGraph]:
        allowed = set(edge_types or FLOW)
        h = nx.MultiDiGraph()
        h.add_nodes_from(self.g.nodes)
        h.add_edges_from((u, v, k) for u, v, k, d in self.g.edges(keys=True, data=True) if d["type"] in allowed)
        present = {s for s in seeds if s in h}
        if not present:
            return {}, h
        dist = nx.multi_source_dijkstra_path_length(h, present, cutoff=max_depth)
        return dict(dist), h

    # -- where units are --------------------------------------------------------------
    def serial_state(self, sid: str, as_of: str | None) -> tuple[str, str | None]:
        s = self.p.get("Serial", sid)
        if as_of is None:
            return s["status"], s.get("customer_id")
        events = []
        for t, tid, pr in self.out[sid]:
            if t == "SHIPPED_IN":
                sh = self.p.get("Shipment", tid)
                if sh["date"] <= as_of:
                    events.append((sh["date"], 0, "ship", sh))
            elif t == "RETURNED_IN":
                rt = self.p.get("Return", tid)
                if rt["date"] <= as_of:
                    events.append((rt["date"], 1, "return", rt))
        if events:
            _, _, what, rec = sorted(events, key=lambda e: (e[0], e[1]))[-1]
            if what == "return":
                return ("destroyed" if rec["disposition"] == "destroyed" else "returned"), rec["customer_id"]
            if rec.get("delivered_at") and rec["delivered_at"] <= as_of:
                return _kind(self.p, rec["customer_id"]), rec["customer_id"]
            return "in_transit", rec["customer_id"]
        if any(t == "COMPONENT_OF" and pr.get("at", "") <= as_of for t, tid, pr in self.out[sid]):
            return "consumed", None
        return "in_stock", None

    def batch_rows(self, bid: str, as_of: str | None) -> list[tuple[str, str | None, float]]:
        """(status, customer, qty) of a non-serialised batch; net flows between holders."""
        b = self.p.get("Batch", bid)
        customers = set(self.p.nodes.get("Customer", {}))
        bound = as_of or "9999"
        stock = b["qty"]
        consumed = sum(pr["qty"] for t, tid, pr in self.out[bid] if t == "CONSUMED_IN")
        stock -= consumed
        place: dict[tuple[str, str | None], float] = defaultdict(float)
        for t, tid, pr in self.out[bid]:
            if t == "SHIPPED_IN":
                sh = self.p.get("Shipment", tid)
                if sh["date"] > bound:
                    continue
                if sh["from_id"] in customers:
                    place[(_kind(self.p, sh["from_id"]), sh["from_id"])] -= pr["qty"]
                else:
                    stock -= pr["qty"]
                if sh.get("delivered_at") and sh["delivered_at"] <= bound:
                    place[(_kind(self.p, sh["customer_id"]), sh["customer_id"])] += pr["qty"]
                else:
                    place[("in_transit", sh["customer_id"])] += pr["qty"]
            elif t == "RETURNED_IN":
                rt = self.p.get("Return", tid)
                if rt["date"] > bound:
                    continue
                place[(_kind(self.p, rt["customer_id"]), rt["customer_id"])] -= pr["qty"]
                place[("destroyed" if rt["disposition"] == "destroyed" else "returned", None)] += pr["qty"]
        rows = [(st_, c, q) for (st_, c), q in place.items() if q > 0]
        if stock > 0:
            rows.append(("in_stock", None, stock))
        if consumed > 0:
            rows.append(("consumed", None, consumed))
        return rows


# ---------------------------------------------------------------------------------------
# the property
# ---------------------------------------------------------------------------------------


def random_questions(p: Plant, rnd: random.Random) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    lots = sorted(p.nodes["MaterialLot"])
    batches = sorted(p.nodes["Batch"])
    serials = sorted(p.nodes.get("Serial", {}))
    causes: list[dict[str, Any]] = [
        {"lots": rnd.sample(lots, rnd.randint(1, min(3, len(lots))))},
        {"batches": [rnd.choice(batches)]},
        {"supplier": rnd.choice(sorted(p.nodes["Supplier"])), "supplied_from": day(rnd.randint(0, 20)),
         "supplied_to": day(rnd.randint(20, 45))},
        {"supplier": rnd.choice(sorted(p.nodes["Supplier"]))},
        {"equipment": rnd.choice(sorted(p.nodes["Equipment"])), "window_from": ts(rnd.randint(20, 50), 12),
         "window_to": ts(rnd.randint(50, 85), 10)},
        {"document": rnd.choice(sorted(p.nodes["Document"]))},
        {"serial_range": f"{rnd.choice(sorted(p.nodes['Product']))}:1-{rnd.randint(1, 4)}"},
    ]
    if serials:
        causes.append({"serials": [rnd.choice(serials)]})
        causes.append({"serial_range": f"{rnd.choice(batches)}:2-3"})
    out = []
    for cause in causes:
        opts: dict[str, Any] = {}
        if rnd.random() < 0.3:
            opts["max_depth"] = rnd.randint(0, 4)
        if rnd.random() < 0.2:
            opts["edge_types"] = sorted(rnd.sample(FLOW, rnd.randint(1, 5)))
        if rnd.random() < 0.5:
            opts["as_of"] = day(rnd.randint(20, 100))
        if rnd.random() < 0.3:
            opts["include_returned"] = False
        out.append((cause, opts))
    return out


def check_impact(o: Oracle, cause: dict[str, Any], opts: dict[str, Any], r: Any) -> None:
    seeds, prefix = o.seeds(cause)
    dist, h = o.reach(seeds, opts.get("max_depth"), opts.get("edge_types"))
    as_of = opts.get("as_of")
    keep_returned = opts.get("include_returned", True)
    ctx = f"cause={cause} opts={opts}"
    exp_lots = {n for n in dist if o.label[n] == "MaterialLot"}
    exp_batches = {n for n in dist if o.label[n] == "Batch"}
    assert {x.id for x in r.lots} == exp_lots, ctx
    assert {x.id for x in r.batches} == exp_batches, ctx

    exp_serials: dict[str, tuple[str, str | None]] = {}
    for n in dist:
        if o.label[n] == "Serial":
            status, cust = o.serial_state(n, as_of)
            if keep_returned or status not in ("returned", "destroyed"):
                exp_serials[n] = (status, cust)
    got = {s.id: (s.status, s.customer) for s in r.serials}
    assert got == exp_serials, ctx

    exp_rows: list[tuple[str, str, str | None, float]] = []
    for bid in exp_batches:
        has_serials = any(t == "PRODUCED" for t, _, _ in o.out[bid])
        if has_serials or o.p.get("Batch", bid)["kind"] == "rework":
            continue
        for status, cust, q in o.batch_rows(bid, as_of):
            if keep_returned or status not in ("returned", "destroyed"):
                exp_rows.append((bid, status, cust, round(q, 6)))
    got_rows = [(q.batch, q.status, q.customer, round(q.qty, 6)) for q in r.quantities]
    # the engine may split a status/customer into several rows (e.g. per return); compare sums
    def summed(rows: list[tuple[str, str, str | None, float]]) -> dict[tuple[str, str, str | None], float]:
        acc: dict[tuple[str, str, str | None], float] = defaultdict(float)
        for b, s_, c, q in rows:
            acc[(b, s_, c if s_ in HELD else None)] += q
        return {k: round(v, 6) for k, v in acc.items()}
    assert summed(got_rows) == summed(exp_rows), ctx

    # totals reconcile with the oracle's own sums
    by_status: dict[str, float] = defaultdict(float)
    per_customer: dict[str, float] = defaultdict(float)
    for status, cust in exp_serials.values():
        by_status[status] += 1
        if status in HELD and cust:
            per_customer[cust] += 1
    for _, status, cust, q in exp_rows:
        by_status[status] += q
        if status in HELD and cust:
            per_customer[cust] += q
    assert {k: round(v, 6) for k, v in r.by_status.items()} == {k: round(v, 6) for k, v in by_status.items() if v}, ctx
    assert {c.id: round(c.units, 6) for c in r.customers} == {k: round(v, 6) for k, v in per_customer.items()}, ctx
    assert r.counts["units"] == pytest.approx(sum(by_status.values()))
    assert r.counts["units_at_customers"] == pytest.approx(sum(per_customer.values()))

    # provenance: prefix + a shortest chain of allowed edges from a seed to the unit
    for item in list(r.serials) + list(r.batches) + list(r.lots):
        path = item.path
        d = dist[item.id]
        assert path[-1] == item.id and len(path) == len(prefix) + d + 1, (ctx, item.id, path)
        assert path[: len(prefix)] == prefix, (ctx, path)
        chain = path[len(prefix):]
        assert chain[0] in seeds, (ctx, path)
        for a, b in zip(chain, chain[1:]):
            assert h.has_edge(a, b), (ctx, path, a, b)
        assert item.depth == d


def check_backward(o: Oracle, key: str, r: Any) -> None:
    up = nx.ancestors(o.g, key) | {key}
    assert {b.id for b in r.batches} == {n for n in up if o.label[n] == "Batch"}, key
    assert {lot.id for lot in r.lots} == {n for n in up if o.label[n] == "MaterialLot"}, key
    assert {s["id"] for s in r.serials} == {n for n in up if o.label[n] == "Serial"} - {key}, key
    exp_sup = {fid for t, fl, fid, tl, tid, pr in o.p.edges if t == "SUPPLIED" and tid in up}
    assert {s.supplier for s in r.suppliers} == exp_sup, key
    trace_serials = {n for n in up if o.label[n] == "Serial"}
    for b in r.batches:
        sib = {tid for t, tid, pr in o.out[b.id] if t == "PRODUCED"} - trace_serials
        assert b.siblings == len(sib), key


@pytest.fixture(scope="module")
def oracle_store(embedded_server):
    s = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph="t_oracle_" + uuid.uuid4().hex[:6],
                      server=embedded_server)
    s.apply_schema()
    yield s
    s.drop_graph()
    s.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**31 - 1))
@pytest.mark.req("REQ-TRC-003")
def test_engine_matches_networkx_oracle(oracle_store, seed: int) -> None:
    oracle_store.run("MATCH (n) WHERE NOT n:AuditHead DETACH DELETE n")
    p = make_plant(seed)
    p.write(oracle_store)
    o = Oracle(p)
    rnd = random.Random(seed ^ 0x5EED)
    trace_index.refresh(oracle_store)  # the plant was written outside the audit chain
    for cause, opts in random_questions(p, rnd):
        # both engines against the oracle: the graph, and "auto" (the trace index where it can)
        for engine in ("cypher", "auto"):
            r = impact(oracle_store, ImpactCause(**cause), ImpactOptions(**opts), engine=engine)
            check_impact(o, cause, opts, r)
            ANSWERED_BY[r.engine] += 1
    keys = sorted(p.nodes.get("Serial", {}))[:2] + sorted(p.nodes["Batch"])[:2] + sorted(p.nodes["MaterialLot"])[:1]
    for key in keys:
        check_backward(o, key, backward_trace(oracle_store, key))


def test_the_trace_index_answered_part_of_the_oracle_questions() -> None:
    """Runs after the property test (file order): the index really was checked by the oracle,
    not just declined every question."""
    if not ANSWERED_BY:
        pytest.skip("the property test did not run in this session")
    assert ANSWERED_BY["index"] >= 20, dict(ANSWERED_BY)
