"""Import throughput: generate a plant, load the CSV bundle, import it all-or-nothing into a
fresh embedded FalkorDB, then re-import it (idempotent: nothing written).

    python -m perf.bench_import --serials 100000

Prints items/s (an item is one node or edge written) and peak RSS, and writes
perf/results/import-<serials>.json. `run(size)` returns the same records for the perf harness.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(size: int, *, seed: int = 1, chunk_size: int = 100_000, appendfsync: str = "always") -> list[dict[str, Any]]:
    """Measure one plant of `size` serials; returns one record per measured step."""
    from tracegraph.engine.audit.chain import Actor
    from tracegraph.engine.imports.runner import run_import
    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.engine.stores.server import EmbeddedServer
    from tracegraph.loaders.bundle import load_bundle
    from tracegraph.loaders.generator import generate_bundle

    work = Path(tempfile.mkdtemp(prefix="tg-bench-import-"))
    server = EmbeddedServer(work / "db", appendfsync=appendfsync)
    out: list[dict[str, Any]] = []
    base = {"bench": "import", "serials": size, "seed": seed, "chunk_size": chunk_size, "appendfsync": appendfsync,
            "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            # the load average says how much the machine was shared while measuring
            "load_avg_1m_start": round(os.getloadavg()[0], 2)}
    try:
        t = time.perf_counter()
        stats = generate_bundle(work / "bundle", serials=size, seed=seed)
        gen_s = time.perf_counter() - t
        rows = sum(stats["rows"].values())
        out.append({**base, "step": "generate", "seconds": gen_s, "rows": rows, "rows_per_s": rows / gen_s})

        t, c = time.perf_counter(), time.process_time()
        bundle = load_bundle(work / "bundle")
        load_s = time.perf_counter() - t
        out.append({**base, "step": "parse+validate CSV", "seconds": load_s, "rows": rows, "rows_per_s": rows / load_s,
                    "cpu_s": time.process_time() - c})

        server.ensure_running()
        store = FalkorDBStore(unix_socket_path=str(server.socket_path), graph="bench", query_timeout_s=600,
                              server=server)
        store.apply_schema()
        actor = Actor.system("bench")
        # seconds per named write query (the database's share of staging, by statement kind)
        db_s: dict[str, float] = {}
        _write = store.write

        def timed_write(name: str, /, **params: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _write(name, **params)
            finally:
                key = name.split(".", 1)[-1]
                db_s[key] = db_s.get(key, 0.0) + time.perf_counter() - t0

        store.write = timed_write  # type: ignore[method-assign]
        t, c = time.perf_counter(), time.process_time()
        dry = run_import(store, bundle.batch, actor, source_files=bundle.files, chunk_size=chunk_size, dry_run=True)
        plan_s = time.perf_counter() - t
        out.append({**base, "step": "plan only (dry run, empty graph)", "seconds": plan_s, "rows": rows,
                    "rows_per_s": rows / plan_s, "status": dry.status, "cpu_s": time.process_time() - c})
        t, c = time.perf_counter(), time.process_time()
        rep = run_import(store, bundle.batch, actor, source_files=bundle.files, chunk_size=chunk_size)
        imp_s = time.perf_counter() - t
        out.append({**base, "step": "import (plan+stage+commit)", "seconds": imp_s, "items": rep.items_written,
                    "items_per_s": rep.items_written / imp_s, "audit_entries": rep.audit_entries,
                    "cpu_s": time.process_time() - c, "db_write_s": {k: round(v, 2) for k, v in db_s.items()}})
        out.append({**base, "step": "end to end (CSV -> committed)", "seconds": load_s + imp_s,
                    "items": rep.items_written, "items_per_s": rep.items_written / (load_s + imp_s)})

        # sanity: what the graph holds now (a faster import that loses items is no faster)
        held = {"serials": store.run("MATCH (s:Serial) RETURN count(s) AS c", write=False)[0]["c"],
                "produced": store.run("MATCH (:Batch)-[r:PRODUCED]->(:Serial) RETURN count(r) AS c", write=False)[0]["c"],
                "serial_of": store.run("MATCH (:Serial)-[r:OF]->(:Product) RETURN count(r) AS c", write=False)[0]["c"]}
        out[-2]["graph_after"] = held
        t = time.perf_counter()
        rep2 = run_import(store, bundle.batch, actor, source_files=bundle.files, chunk_size=chunk_size)
        re_s = time.perf_counter() - t
        out.append({**base, "step": "re-import (idempotent)", "seconds": re_s, "items": rep2.items_written,
                    "records_checked": bundle.batch.size(), "records_per_s": bundle.batch.size() / re_s})
        info = store._db.connection.info("memory")
        db_mb = float(info.get("used_memory_peak", 0)) / 1e6
        for r in out:
            r["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
            r["peak_rss_mb"] = round(_rss_mb(), 1)
            r["db_peak_mb"] = round(db_mb, 1)
        store.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serials", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk-size", type=int, default=100_000)
    ap.add_argument("--appendfsync", default="always", choices=["always", "everysec", "no"])
    args = ap.parse_args(argv)
    res = run(args.serials, seed=args.seed, chunk_size=args.chunk_size, appendfsync=args.appendfsync)
    for r in res:
        rate = r.get("items_per_s") or r.get("rows_per_s") or r.get("records_per_s") or 0
        n = r.get("items", r.get("rows", r.get("records_checked")))
        cpu = f"  (python cpu {r['cpu_s']:.1f} s)" if "cpu_s" in r else ""
        print(f"{r['step']:32s} {r['seconds']:8.1f} s  {n:>10,} items  {rate:>10,.0f}/s{cpu}")
        if r.get("graph_after"):
            print(f"{'':32s} graph after import: {r['graph_after']}")
        if r.get("db_write_s"):
            print(f"{'':32s} database writes by kind (s): {r['db_write_s']}")
    print(f"peak RSS {res[-1]['peak_rss_mb']:.0f} MB, database peak memory {res[-1]['db_peak_mb']:.0f} MB, "
          f"load average {res[0]['load_avg_1m_start']} -> {res[-1]['load_avg_1m_end']} on {res[0]['cpus']} cpus")
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.appendfsync == "always" else f"-{args.appendfsync}"
    path = RESULTS / f"import-{args.serials}{suffix}.json"
    path.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
