"""Containers: impact on a container-heavy plant against the same plant shipped as loose units,
same run, same machine (issue 14: lot and supplier-wide impact within 1.5x of the loose figures).

    python -m perf.bench_containers                 # S: 100,000 serials
    python -m perf.bench_containers --serials 20000

The plant is the ERP generator's (tracegraph/loaders/generator.py). The container variant is the
same plant with every first-leg shipment from the site packed: its units in cases of 10
(packing.csv rows an hour before the shipment), the cases of one shipment on one pallet, and the
shipment line naming the pallet (or the case when there is one); distributor -> hospital
transfers stay unit lines. Both are imported into fresh graphs of one embedded FalkorDB (the
container import includes its containment derivation, timed apart). Then the same causes (a few
lots, one supplier-wide) are answered by both engines on both graphs, median of `--repeat`
runs taken in turns on the two plants (a repetition on each, the first of the pair alternating:
the cores are shared with other work, whose load then falls on both alike), and the answers' unit
totals are checked equal (a container plant that lost units would be "fast"). Writes
perf/results/containers-<serials>.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def containerise(batch: Any, case_size: int = 10) -> tuple[Any, int, int]:
    """The same ImportBatch with first-leg shipments packed into cases on pallets."""
    from tracegraph.engine.imports.batch import ImportBatch
    from tracegraph.engine.model import ContainerRecord, PackingRecord, ShipmentLineRecord

    out = ImportBatch()
    out.extend(batch)
    ship = {s.id: s for s in batch.shipments}
    site = {s.id for s in batch.shipments if not str(s.from_id).startswith("CUS")}
    by_ship: dict[str, list[str]] = defaultdict(list)
    lines: list[Any] = []
    for ln in batch.shipment_lines:
        if ln.item_kind == "serial" and ln.shipment_id in site:
            by_ship[ln.shipment_id].append(ln.item_id)
        else:
            lines.append(ln)
    boxes: list[Any] = []
    packing: list[Any] = []
    n_case = n_pallet = 0
    for sid, units in by_ship.items():
        at = ship[sid].date - timedelta(hours=1)
        cases = []
        for i in range(0, len(units), case_size):
            n_case += 1
            cid = f"CASE-{n_case:07d}"
            cases.append(cid)
            boxes.append(ContainerRecord(id=cid, kind="case"))
            packing += [PackingRecord(child_kind="serial", child_id=u, container_id=cid, packed_at=at)
                        for u in units[i:i + case_size]]
        top = cases[0]
        if len(cases) > 1:
            n_pallet += 1
            top = f"PAL-{n_pallet:06d}"
            boxes.append(ContainerRecord(id=top, kind="pallet"))
            packing += [PackingRecord(child_kind="container", child_id=c, container_id=top,
                                      packed_at=at + timedelta(minutes=30)) for c in cases]
        lines.append(ShipmentLineRecord(shipment_id=sid, item_kind="container", item_id=top))
    out.shipment_lines = lines
    out.containers = boxes
    out.packing = packing
    return out, n_case, n_pallet


def run(serials: int, repeat: int = 5, seed: int = 1) -> dict[str, Any]:
    from tracegraph.engine.audit.chain import Actor
    from tracegraph.engine.imports.runner import run_import
    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.engine.stores.server import EmbeddedServer
    from tracegraph.engine.trace import index as trace_index
    from tracegraph.engine.trace.impact import impact
    from tracegraph.engine.trace.models import ImpactCause
    from tracegraph.loaders.generator import generate_plant

    actor = Actor(id="perf", name="Perf", roles=frozenset({"admin"}))
    loose = generate_plant(serials, seed=seed)
    boxed, n_case, n_pallet = containerise(loose)
    plants = {"loose": loose, "containers": boxed}
    all_lots = sorted({c.input_id for c in loose.consumptions if c.input_kind == "lot"})
    lots = all_lots[:: max(1, len(all_lots) // 5)][:5]
    supplier = loose.suppliers[0].id
    del loose
    out: dict[str, Any] = {"serials": serials, "cases": n_case, "pallets": n_pallet, "repeat": repeat,
                           "packing_rows": len(boxed.packing), "interleaved": True, "gc_frozen": True,
                           "variants": {}}
    del boxed
    causes = (("lot", ImpactCause(lots=lots[:1])), ("lots5", ImpactCause(lots=lots)),
              ("supplier", ImpactCause(supplier=supplier)))
    with tempfile.TemporaryDirectory() as d:
        server = EmbeddedServer(Path(d), appendfsync="everysec")
        server.ensure_running()
        stores: dict[str, Any] = {}
        try:
            for name in ("loose", "containers"):
                batch = plants.pop(name)
                s = stores[name] = FalkorDBStore(unix_socket_path=str(server.socket_path),
                                                 graph=f"bench_{name}_{uuid.uuid4().hex[:6]}", server=server)
                s.apply_schema()
                t0 = time.perf_counter()
                rep = run_import(s, batch, actor, source_files=[])
                v: dict[str, Any] = {"import_s": round(time.perf_counter() - t0, 2), "audit_entries": rep.audit_entries}
                n = s.run("MATCH (:Serial)-[x:SHIPPED_IN]->() WHERE x.via IS NOT NULL RETURN count(x) AS c", write=False)
                v["derived_edges"] = n[0]["c"]
                out["variants"][name] = v
            # the generated plants (millions of Python objects at M) are not needed any more; a
            # server holds no such heap, and it freezes its own after start-up (api/app.py):
            # without this, the full collections an answer's allocations trigger walk them, which
            # weighs most on the answer that allocates most (the container plant's)
            batch = None
            gc.collect()
            gc.freeze()
            # both plants answer in turns, repetition by repetition (which goes first alternates),
            # so that the other agents' load on the shared cores falls on both alike
            for engine in ("cypher", "index"):
                if engine == "index":
                    for name, s in stores.items():
                        t1 = time.perf_counter()
                        trace_index.refresh(s)
                        out["variants"][name]["index_build_s"] = round(time.perf_counter() - t1, 2)
                for label, cause in causes:
                    times: dict[str, list[float]] = {name: [] for name in stores}
                    last: dict[str, Any] = {}
                    for i in range(repeat):
                        for name in (list(stores) if i % 2 == 0 else list(stores)[::-1]):
                            t0 = time.perf_counter()
                            last[name] = impact(stores[name], cause, engine=engine)
                            times[name].append(time.perf_counter() - t0)
                    for name, r in last.items():
                        v = out["variants"][name]
                        v[f"{label}_{engine}_ms"] = round(statistics.median(times[name]) * 1000, 1)
                        v[f"{label}_units"] = r.counts["units"]
                        v[f"{label}_customers"] = r.counts["customers"]
                        v[f"{label}_by_status"] = r.by_status
                        v[f"{label}_containers"] = len(r.containers)
            for name in stores:
                print(name, json.dumps(out["variants"][name]))
        finally:
            for s in stores.values():
                trace_index.disable(s)
                s.drop_graph()
                s.close()
            server.stop()
    lo, bx = out["variants"]["loose"], out["variants"]["containers"]
    out["ratio"] = {k: round(bx[k] / lo[k], 2) for k in lo if k.endswith("_ms") and lo[k]}
    out["same_answers"] = all(lo[f"{c}_{k}"] == bx[f"{c}_{k}"] for c in ("lot", "lots5", "supplier")
                              for k in ("units", "customers"))
    # the generator writes status `returned` for every returned unit; the derivation classifies a
    # packed unit by the as-of rule, which says `destroyed` for a destroyed disposition
    out["by_status_differences"] = {c: {k: [lo[f"{c}_by_status"].get(k, 0), bx[f"{c}_by_status"].get(k, 0)]
                                        for k in set(lo[f"{c}_by_status"]) | set(bx[f"{c}_by_status"])
                                        if lo[f"{c}_by_status"].get(k, 0) != bx[f"{c}_by_status"].get(k, 0)}
                                    for c in ("lot", "lots5", "supplier")}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"containers-{serials}.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serials", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    out = run(a.serials, a.repeat)
    print(json.dumps({"ratio": out["ratio"], "same_answers": out["same_answers"]}))


if __name__ == "__main__":
    main()
