"""Property test: random plants with nested containers (packing, unpacking, repacking, shipping
containers and loose units, onward shipments, returns and destructions of containers), every
"now" and "as of" answer of both engines against an independent oracle (real embedded database).

The oracle does NOT look at packing intervals the way the engine does (engine/imports/containment.py
derives each unit's shipments from `PACKED_IN {from, to}` links afterwards). It replays the
story as it happens: a current containment tree that pack/unpack change, and every shipment or
return of a container moving, at that moment, every unit found by walking the tree down. "As of"
D is the replay of the events up to D.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.imports.runner import run_import
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.engine.trace import index as trace_index
from tracegraph.engine.trace.impact import impact
from tracegraph.engine.trace.models import ImpactCause, ImpactOptions
from tracegraph.loaders.bundle import load_bundle

ACTOR = Actor(id="u-qa", name="QA Importer", roles=frozenset({"qa"}))
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
CUSTOMERS = {"D1": "distributor", "D2": "distributor", "H1": "hospital", "H2": "hospital", "H3": "hospital"}


def ts(i: int, hours: int = 0) -> str:
    return (T0 + timedelta(days=i, hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Story:
    """The events of one random plant, in time order, and the oracle's replay of them."""

    units: list[str]
    boxes: list[str]
    events: list[tuple[Any, ...]] = field(default_factory=list)  # (day, kind, ...)


def replay(story: Story, upto: int | None = None) -> dict[str, tuple[str, str | None]]:
    """Where each unit is after the events of days <= upto (all when None): the oracle."""
    parent: dict[str, str | None] = {x: None for x in story.units + story.boxes}
    place: dict[str, tuple[str, str | None]] = {u: ("in_stock", None) for u in story.units}
    pending: list[tuple[int, list[str], str]] = []  # deliveries: (day, units, customer)

    def units_in(x: str) -> list[str]:
        if x in place:
            return [x]
        return [u for c, p in parent.items() if p == x for u in units_in(c)]

    for ev in story.events:
        day = ev[0]
        if upto is not None and day > upto:
            break
        for d, us, cu in [p for p in pending if p[0] <= day]:
            for u in us:
                if place[u] == ("in_transit", cu):
                    place[u] = ("at_distributor" if CUSTOMERS[cu] == "distributor" else "at_end_user", cu)
        pending = [p for p in pending if p[0] > day]
        kind = ev[1]
        if kind == "pack":
            parent[ev[2]] = ev[3]
        elif kind == "unpack":
            parent[ev[2]] = None
        elif kind == "ship":
            _, _, item, cu, delivered, _sid = ev
            us = units_in(item)
            for u in us:
                place[u] = ("in_transit", cu)
            if delivered:
                pending.append((day, us, cu))  # delivered 2 hours later the same day
        elif kind == "return":
            _, _, item, disp, _rid, _cu = ev
            for u in units_in(item):
                place[u] = (disp, place[u][1])
    for _d, us, cu in pending:  # a delivery that happened on the last day replayed
        for u in us:
            if place[u] == ("in_transit", cu):
                place[u] = ("at_distributor" if CUSTOMERS[cu] == "distributor" else "at_end_user", cu)
    return place


def tree(story: Story, upto: int | None = None) -> dict[str, str | None]:
    """What each unit and container is directly packed in after the events of days <= upto."""
    parent: dict[str, str | None] = {x: None for x in story.units + story.boxes}
    for ev in story.events:
        if upto is not None and ev[0] > upto:
            break
        if ev[1] == "pack":
            parent[ev[2]] = ev[3]
        elif ev[1] == "unpack":
            parent[ev[2]] = None
    return parent


def assert_containers(res: Any, parent: dict[str, str | None], when: str) -> None:
    """The answer's containers against the oracle's tree: each listed unit's innermost container,
    every container above the listed units (nested at any depth) with its parent and unit count."""
    under: dict[str, int] = {}
    for x in res.serials:
        assert x.container == parent[x.id], f"{when}: container of {x.id}"
        p = parent[x.id]
        while p is not None:
            under[p] = under.get(p, 0) + 1
            p = parent[p]
    assert {c.id: (c.parent, c.units) for c in res.containers} == \
        {k: (parent[k], n) for k, n in under.items()}, when


@st.composite
def stories(draw: Any) -> Story:
    n_units = draw(st.integers(2, 8))
    n_boxes = draw(st.integers(1, 4))
    s = Story([f"U{i}" for i in range(n_units)], [f"K{i}" for i in range(n_boxes)])
    parent: dict[str, str | None] = {x: None for x in s.units + s.boxes}
    holder: dict[str, str | None] = {x: None for x in s.units + s.boxes}  # customer of top-level items
    gone: set[str] = set()

    def ancestors(x: str) -> set[str]:
        out, p = set(), parent[x]
        while p is not None:
            out.add(p)
            p = parent[p]
        return out

    def top(x: str) -> str:
        while parent[x] is not None:
            x = parent[x]  # type: ignore[assignment]
        return x

    n_ship = 0
    for day in range(1, draw(st.integers(3, 12)) + 1):
        kind = draw(st.sampled_from(["pack", "pack", "unpack", "ship", "ship", "return"]))
        live = [x for x in s.units + s.boxes if x not in gone]
        if kind == "pack":
            # only at our site (nothing packed at a customer's): child and box both unshipped
            kids = [x for x in live if parent[x] is None and holder[top(x)] is None]
            child = draw(st.sampled_from(kids)) if kids else None
            boxes = [b for b in s.boxes if child is not None and b not in gone and b != child
                     and child not in ancestors(b) and holder[top(b)] is None]
            if child is None or not boxes:
                continue
            box = draw(st.sampled_from(boxes))
            parent[child] = box
            s.events.append((day, "pack", child, box))
        elif kind == "unpack":
            packed = [x for x in live if parent[x] is not None]
            if not packed:
                continue
            child = draw(st.sampled_from(packed))
            holder[child] = holder[top(child)]
            parent[child] = None
            s.events.append((day, "unpack", child))
        elif kind == "ship":
            tops = [x for x in live if parent[x] is None]
            if not tops:
                continue
            item = draw(st.sampled_from(tops))
            cu = draw(st.sampled_from(sorted(CUSTOMERS)))
            delivered = draw(st.booleans())
            n_ship += 1
            holder[item] = cu
            s.events.append((day, "ship", item, cu, delivered, f"SH{n_ship}"))
        else:
            tops = [x for x in live if parent[x] is None and holder[x] is not None and x in s.boxes]
            if not tops:
                continue
            item = draw(st.sampled_from(tops))
            disp = draw(st.sampled_from(["returned", "destroyed"]))
            s.events.append((day, "return", item, disp, f"R{day}", holder[item]))
            holder[item] = None
            if disp == "destroyed":
                gone.add(item)
                for x in list(parent):
                    if item in ancestors(x):
                        gone.add(x)
    return s


def write_bundle(s: Story, d: Path, final: dict[str, tuple[str, str | None]]) -> None:
    def w(name: str, header: list[str], rows: list[list[Any]]) -> None:
        with open(d / name, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            out.writerows(rows)

    w("suppliers.csv", ["id", "name"], [["SUP", "Supplier"]])
    w("materials.csv", ["id", "name", "uom"], [["M", "Resin", "kg"]])
    w("material_lots.csv", ["id", "material_id", "supplier_id", "qty_received", "uom", "received_at"],
      [["L", "M", "SUP", 10, "kg", ts(0)]])
    w("products.csv", ["id", "name"], [["P", "Pump"]])
    w("batches.csv", ["id", "product_id", "qty", "started_at"], [["B", "P", len(s.units), ts(0, 1)]])
    w("consumptions.csv", ["input_id", "batch_id", "qty", "uom"], [["L", "B", 1, "kg"]])
    # the ERP states each unit's current place (loose units); packed units are derived anyway
    w("serials.csv", ["id", "batch_id", "product_id", "status", "customer_id"],
      [[u, "B", "P", final[u][0], final[u][1] or ""] for u in s.units])
    w("customers.csv", ["id", "name", "kind"], [[c, c, k] for c, k in sorted(CUSTOMERS.items())])
    w("containers.csv", ["id", "kind"], [[b, "case"] for b in s.boxes])
    open_: dict[str, tuple[str, str]] = {}
    packing: list[list[Any]] = []
    ships: list[list[Any]] = []
    lines: list[list[Any]] = []
    rets: list[list[Any]] = []
    for ev in s.events:
        day, kind = ev[0], ev[1]
        if kind == "pack":
            open_[ev[2]] = (ev[3], ts(day))
        elif kind == "unpack":
            box, since = open_.pop(ev[2])
            packing.append(["container" if ev[2] in s.boxes else "serial", ev[2], box, since, ts(day)])
        elif kind == "ship":
            _, _, item, cu, delivered, sid = ev
            ships.append([sid, ts(day), ts(day, 2) if delivered else "", "SITE", cu])
            lines.append([sid, "container" if item in s.boxes else "serial", item])
        else:
            _, _, item, disp, rid, cu = ev
            rets.append([rid, ts(day, 4), cu, disp, "container", item])
    for child, (box, since) in open_.items():
        packing.append(["container" if child in s.boxes else "serial", child, box, since, ""])
    w("packing.csv", ["child_kind", "child_id", "container_id", "packed_at", "unpacked_at"], packing)
    w("shipments.csv", ["id", "date", "delivered_at", "from_id", "customer_id"], ships)
    w("shipment_lines.csv", ["shipment_id", "item_kind", "item_id"], lines)
    w("returns.csv", ["id", "date", "customer_id", "disposition", "item_kind", "item_id"], rets)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(story=stories())
def test_engines_match_the_replay_oracle(embedded_server: Any, tmp_path_factory: Any, story: Story) -> None:
    final = replay(story)
    d = tmp_path_factory.mktemp("box")
    write_bundle(story, d, final)
    s = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph="t_boxo_" + uuid.uuid4().hex[:8],
                      server=embedded_server)
    s.apply_schema()
    try:
        b = load_bundle(d)
        run_import(s, b.batch, ACTOR, source_files=b.files)
        cause = ImpactCause(lots=["L"])
        now = impact(s, cause, engine="cypher")
        assert {x.id: (x.status, x.customer) for x in now.serials} == final
        assert_containers(now, tree(story), "now")
        trace_index.refresh(s)
        by_index = impact(s, cause, engine="index")
        assert by_index.model_dump(exclude={"engine", "index_seq", "elapsed_ms"}) == \
            now.model_dump(exclude={"engine", "index_seq", "elapsed_ms"})
        trace_index.disable(s)
        last = max((ev[0] for ev in story.events), default=0)
        for day in range(0, last + 1):
            # the end of each day: every event of that day (and its same-day delivery) counted
            got = impact(s, cause, ImpactOptions(as_of=ts(day, 12)), engine="cypher")
            assert {x.id: (x.status, x.customer) for x in got.serials} == replay(story, day), f"as of day {day}"
            assert_containers(got, tree(story, day), f"as of day {day}")
        # every unit the oracle has at a customer is named under that customer
        held = {u: c for u, (st_, c) in final.items() if st_ in ("in_transit", "at_distributor", "at_end_user")}
        per = {c.id: c.units for c in now.customers}
        for c in set(held.values()):
            assert per.get(c) == sum(1 for v in held.values() if v == c)
    finally:
        s.drop_graph()
        s.close()
