"""EPCIS import side: the peak memory of a WHOLE `tracegraph import` of a big document (read,
check, map, stage, commit), against the reader alone and against the code before, in one run
(issue 16: "memory stays bounded for a 1 GB document").

    python -m perf.bench_epcis_memory --mb 5 20                      # this tree at two sizes
    python -m perf.bench_epcis_memory --mb 5 20 --before /work/main  # ... and another checkout

The documents are perf/bench_epcis_stream.py's (batches of four events: a transformation, the
commissioning of --epcs units, their packing into a case, the case shipped), JSON-LD. Every
measurement runs in its own process against one embedded FalkorDB (a fresh graph each): the
process imports tracegraph, compiles GS1's schemas and connects, then its peak RSS (VmHWM) is
reset (/proc/self/clear_refs) and what follows is measured, so `added_mb` is the memory the
work itself needed above the interpreter. Rows:
- read: `epcis_stream.open_events` iterated, each event dropped (the reader's own memory: the
  floor any import stands on);
- import: `load_epcis` + `run_epcis_import` (what `tracegraph import FILE` runs), this tree;
- import (before): the same functions from the checkout given with --before (e.g. the main
  branch before this change), measured in the same run on the same documents.
`per_file_mb` is added_mb over the document's size. Writes perf/results/epcis-memory-<largest>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
HERE = Path(__file__).resolve().parent.parent


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith(field + ":"))


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measure(mode: str, path: str, socket: str, graph: str) -> dict[str, Any]:
    """One measurement, in this process (the tree on sys.path is the one measured)."""
    from tracegraph.engine.access.actor import Actor
    from tracegraph.engine.imports.runner import SourceFile
    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.loaders.epcis import load_epcis, run_epcis_import
    from tracegraph.loaders.epcis_doc import fast_validator
    from tracegraph.loaders.epcis_stream import open_events

    fast_validator()
    store = FalkorDBStore(unix_socket_path=socket, graph=graph)
    store.drop_graph()
    store.apply_schema()
    actor = Actor("bench", "Bench Runner", frozenset({"system"}))
    reset = _reset_peak()
    start_kb = _status_kb("VmRSS")
    t0 = time.perf_counter()
    out: dict[str, Any] = {"mode": mode}
    if mode == "read":
        out["events"] = sum(1 for _ in open_events(path))
    else:
        batch = load_epcis(path, store)
        out["events"] = batch.meta["events"]
        out["mapped_peak_mb"] = round((_status_kb("VmHWM") - start_kb) / 1024, 1) if reset else None
        out["map_seconds"] = round(time.perf_counter() - t0, 1)
        rep = run_epcis_import(store, batch, actor, source_files=[SourceFile.of_path(Path(path))])
        assert rep.status == "committed", rep
        out["items"] = rep.items_written
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["peak_rss_mb"] = round(_status_kb("VmHWM") / 1024, 1)
    out["start_rss_mb"] = round(start_kb / 1024, 1)
    if reset:
        out["added_mb"] = round((_status_kb("VmHWM") - start_kb) / 1024, 1)
    store.drop_graph()
    return out


def _run(tree: Path, mode: str, path: str, socket: str, graph: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2]); "
            "from bench_epcis_memory import measure; print(json.dumps(measure(*sys.argv[3:])))")
    r = subprocess.run([sys.executable, "-c", code, str(tree), str(Path(__file__).resolve().parent), mode, path,
                        socket, graph], capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        return {"mode": mode, "error": (r.stderr or r.stdout).strip().splitlines()[-3:]}
    res: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return res


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from perf.bench_epcis_stream import write_documents
    from tracegraph.engine.stores.server import EmbeddedServer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, nargs="+", default=[5, 20], help="document sizes (MB)")
    ap.add_argument("--epcs", type=int, default=64)
    ap.add_argument("--before", default=None, help="a checkout of the code before, measured in the same run")
    ap.add_argument("--dir", default=None, help="where to write the documents (default: a temporary folder)")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"epcs_per_event": args.epcs, "before": args.before, "rows": []}
    trees = [("import", HERE)] + ([("import (before)", Path(args.before).resolve())] if args.before else [])
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        server = EmbeddedServer(folder / "db", appendfsync="everysec")
        server.ensure_running()
        try:
            for mb in sorted(args.mb):
                d = write_documents(folder, mb, args.epcs, formats=("json",))["json"]
                file_mb = d["bytes"] / 1e6
                plan = [("read", "read", HERE)] + [(label, "import", tree) for label, tree in trees]
                for label, mode, tree in plan:
                    r = _run(tree, mode, d["path"], str(server.socket_path), f"mem_{mode}_{int(mb)}")
                    r.update({"what": label, "doc_mb": round(file_mb, 1), "doc_events": d["events"]})
                    if "added_mb" in r:
                        r["per_file_mb"] = round(r["added_mb"] / file_mb, 1)
                    out["rows"].append(r)
                    print(json.dumps(r), flush=True)
                Path(d["path"]).unlink()
        finally:
            server.stop()
    print(f"{'document':>9} {'what':16} {'events':>7} {'time':>7} {'added peak RSS':>15} {'x file':>7}")
    for r in out["rows"]:
        if "error" in r:
            print(f"{r['doc_mb']:>7} MB {r['what']:16} error: {r['error']}")
            continue
        print(f"{r['doc_mb']:>7} MB {r['what']:16} {r['events']:>7} {r['seconds']:>6} s {r.get('added_mb', '?'):>12} MB"
              f" {r.get('per_file_mb', '?'):>6}x")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"epcis-memory-{max(args.mb):g}.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
