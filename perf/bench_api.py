"""API load benchmark: GraphQL `traceBack` and `impact` against a real `tracegraph serve`.

    python -m perf.bench_api --size S --workers 2 --concurrency 16 --requests 4000 --seconds 30

What it does, and why this way:
* builds (or reuses) a generated plant with the perf harness, in its own data folder
  (perf/data/api/<size>, so other benchmarks' servers are never touched);
* starts `tracegraph serve` as a SEPARATE process on 127.0.0.1 (uvicorn, N workers) on that
  data folder, creates a bench user, and logs in over REST;
* drives it from this process with a minimal asyncio HTTP/1.1 keep-alive client (C
  connections; cheaper than httpx, so more CPU is left to the server on a 2-core machine);
* every run is bounded by a request count AND a time limit, and only talks to 127.0.0.1;
* reports requests/s and p50/p95/p99 latency per scenario at the concurrency used, and
  writes perf/results/<name>-<date>.json (`--name`, default api);
* `--read-cache both` (the default) runs every scenario twice, on a server with the read cache
  (api/read_cache.py) off, then on one with it on, and prints the ratios: the baseline is measured
  in the same run. Each worker keeps its own cache, so the first ask of each distinct request
  (`distinct_requests` per row) in each worker is a miss.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH_USER = "bench-admin"
BENCH_PASSWORD = "Bench-Password-2026!"

TRACE_BACK = ("query($k: String!) { traceBack(key: $k, siblingLimit: 0) { counts "
              "batches { id product } lots { id depth } suppliers { supplier name } } }")
BATCH = ("query($k: String!) { batch(id: $k) { id status startedAt product { name } "
         "materialLots { lot { id supplier { name } } qty } } }")
#: the dashboard mix (issue 17): the recall board, the complaints board, one record page, one impact
RECALL_BOARD = "{ recalls(first: 20) { totalCount edges { node { id status recallClass jurisdiction unitsCovered } } } }"
QMS_BOARD = ('{ qualityRecords(type: "complaint", first: 20) { totalCount edges { node { id status } } } }')
#: the record page both doors serve: a batch's release checklist (batch, inspections, deviations, calibration, training)
CHECKLIST = "query($k: String!) { releaseChecklist(batch: $k) { batch releasable conditions { name ok why } } }"
IMPACT = ("query($lot: String!) { impact(cause: {lots: [$lot]}, options: {includePaths: false, serialLimit: 50}) "
          "{ counts byStatus customers { id units } } }")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a minimal HTTP/1.1 keep-alive client ------------------------------------------------------------


class Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes, token: str, method: str = "POST") -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except Exception:
                pass


async def _load(
    port: int, token: str, bodies: list[Any], concurrency: int, max_requests: int, max_seconds: float
) -> dict[str, Any]:
    conns = [Conn("127.0.0.1", port) for _ in range(concurrency)]
    await asyncio.gather(*(c.open() for c in conns))
    lat: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + max_seconds

    async def worker(c: Conn, wid: int) -> None:
        nonlocal sent, errors
        i = wid
        while sent < max_requests and time.perf_counter() < deadline:
            sent += 1
            item = bodies[i % len(bodies)]
            method, path, body = item if isinstance(item, tuple) else ("POST", "/graphql", item)
            i += concurrency
            t0 = time.perf_counter()
            status, data = await c.post(path, body, token, method)
            dt = time.perf_counter() - t0
            if status != 200 or b'"errors"' in data[:200]:
                errors += 1
            lat.append(dt)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c, i) for i, c in enumerate(conns)))
    wall = time.perf_counter() - t0
    await asyncio.gather(*(c.close() for c in conns))
    a = np.array(lat) * 1000
    return {
        "requests": len(lat),
        "errors": errors,
        "seconds": round(wall, 2),
        "rps": round(len(lat) / wall, 1) if wall else 0.0,
        "p50_ms": round(float(np.percentile(a, 50)), 2) if len(a) else None,
        "p95_ms": round(float(np.percentile(a, 95)), 2) if len(a) else None,
        "p99_ms": round(float(np.percentile(a, 99)), 2) if len(a) else None,
        "max_ms": round(float(a.max()), 2) if len(a) else None,
    }


def _direct(store: Any, name: str, keys: list[str], n: int = 50) -> dict[str, Any]:
    """The same work called in-process, sequentially, in the same run: the baseline that tells
    API overhead from database time (and from how busy the machine is)."""
    from tracegraph.engine import browse
    from tracegraph.engine.trace.backward import backward_trace
    from tracegraph.engine.trace.impact import impact
    from tracegraph.engine.trace.models import ImpactCause, ImpactOptions

    lat = []
    for k in keys[:n]:
        t0 = time.perf_counter()
        try:
            if name == "traceBack":
                backward_trace(store, k, sibling_limit=0)
            elif name == "batch":
                b = browse.nodes_by_ids(store, "Batch", [k])
                browse.nodes_by_ids(store, "Product", [b[k].get("product_id")])
                browse.related(store, "batch_lots", [k])
            else:
                impact(store, ImpactCause(lots=[k]), ImpactOptions(include_paths=False, serial_limit=50))
        except Exception as exc:  # the engine is being changed by others: record, do not crash the run
            return {"error": f"{type(exc).__name__}: {exc}"[:300]}
        lat.append((time.perf_counter() - t0) * 1000)
    a = np.array(lat)
    return {"calls": len(lat), "p50_ms": round(float(np.percentile(a, 50)), 2),
            "p95_ms": round(float(np.percentile(a, 95)), 2)}


# -- server lifecycle -------------------------------------------------------------------------------------


def _wait_health(port: int, timeout_s: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"tracegraph serve did not answer on 127.0.0.1:{port} within {timeout_s:.0f} s")


def _wait_trace_index(port: int, timeout_s: float = 180, streak: int = 12) -> bool:
    """Wait until the workers' trace indexes are built (`/health` says fresh `streak` times in a row:
    each ask goes to whichever worker accepts it). A server builds its index in the background after
    start (a few seconds at S, per worker); measuring before that measures the start-up, with the
    builds competing for the CPU and impacts answered by the graph meanwhile."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    seen = 0
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                ti = json.loads(r.read()).get("trace_index") or {}
        except Exception:
            ti = {}
        if not ti.get("enabled", True):
            return True  # no index kept (trace_index off): nothing to wait for
        seen = seen + 1 if ti.get("fresh") and not ti.get("building") else 0
        if seen >= streak:
            return True
        time.sleep(0.1 if seen else 0.5)
    return False


def _login(port: int) -> str:
    import urllib.request

    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/auth/login",
        data=json.dumps({"username": BENCH_USER, "password": BENCH_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return str(json.loads(r.read())["token"])


def _ensure_user(store: Any) -> None:
    from tracegraph.engine.access import auth
    from tracegraph.engine.errors import Conflict

    if auth.get_user(store, BENCH_USER) is not None:
        return
    try:
        auth.init_admin(store, BENCH_USER, "Bench Admin", BENCH_PASSWORD)
    except Conflict:  # other users exist: add ours through an administrator-equivalent system actor
        from tracegraph.engine.audit.chain import Actor

        auth.add_user(store, Actor.system("bench"), BENCH_USER, "Bench Admin", BENCH_PASSWORD, ["viewer"],
                      reason="API benchmark user")


def _serve_and_load(args: Any, handle: Any, mode: str, serials: list[str], lots: list[str], batches: list[str],
                    say: Any) -> list[dict[str, Any]]:
    """Start `tracegraph serve` with the read cache `mode` (on/off), run every scenario, stop it."""
    from perf.harness import GRAPH

    port = _free_port()
    env = dict(os.environ, TRACEGRAPH_DATA_DIR=str(handle.server.data_dir), TRACEGRAPH_GRAPH=GRAPH,
               TRACEGRAPH_DATABASE_URL="", TRACEGRAPH_APPENDFSYNC="no",
               TRACEGRAPH_READ_CACHE_ENTRIES="0" if mode == "off" else "4096")
    cmd = [sys.executable, "-m", "tracegraph.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(args.workers), "--log-level", "warning", "--keep-db"]
    say(f"starting: {' '.join(cmd)}")
    server = subprocess.Popen(cmd, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    rows: list[dict[str, Any]] = []
    try:
        _wait_health(port)
        index_ready = _wait_trace_index(port) if args.wait_index else None
        token = _login(port)
        for name in args.scenarios:
            if name == "traceBack":
                bodies = [json.dumps({"query": TRACE_BACK, "variables": {"k": k}}).encode() for k in serials]
            elif name == "batch":
                bodies = [json.dumps({"query": BATCH, "variables": {"k": k}}).encode() for k in batches]
            elif name == "impact":
                bodies = [json.dumps({"query": IMPACT, "variables": {"lot": k}}).encode() for k in lots]
            elif name == "dashboard":  # GraphQL: boards, a record page, an impact, in turn
                bodies = []
                for b, lot in zip(batches, lots):
                    bodies += [json.dumps({"query": RECALL_BOARD}).encode(), json.dumps({"query": QMS_BOARD}).encode(),
                               json.dumps({"query": CHECKLIST, "variables": {"k": b}}).encode(),
                               json.dumps({"query": IMPACT, "variables": {"lot": lot}}).encode()]
            elif name == "dashboard_rest":  # the same reads over REST, the same baseline in the same run
                bodies = []
                for b, lot in zip(batches, lots):
                    bodies += [("GET", "/recalls?limit=20", b""), ("GET", "/qms/complaint?limit=20", b""),
                               ("GET", f"/qms/checklist/{b}", b""), ("GET", f"/impact?lot={lot}&serial_limit=50", b"")]
            else:
                raise SystemExit(f"unknown scenario {name}")
            if not name.startswith("dashboard"):  # the mixes keep their rotation: each worker sees every kind
                random.Random(3).shuffle(bodies)
            direct = (_direct(handle.store, name, {"traceBack": serials, "batch": batches}.get(name, lots))
                      if not name.startswith("dashboard") else None)
            asyncio.run(_load(port, token, bodies, min(args.concurrency, 8), args.warmup, 30))
            res = asyncio.run(_load(port, token, bodies, args.concurrency, args.requests, args.seconds))
            row = {"scenario": ("rest." if name.endswith("_rest") else "graphql.") + name, "read_cache": mode,
                   "size": handle.size, "workers": args.workers,
                   "concurrency": args.concurrency, **res, "engine_direct": direct,
                   "distinct_requests": len({repr(b) for b in bodies}), "index_ready_before_load": index_ready,
                   "load_avg_at_end": list(os.getloadavg()),
                   "goal": {"rps": 1000, "p99_ms": 50},
                   "meets_goal": bool(res["rps"] >= 1000 and (res["p99_ms"] or 1e9) <= 50)}
            rows.append(row)
            say(json.dumps(row))
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)  # graceful: uvicorn finishes requests, closes stores
            server.wait(timeout=30)
        except Exception:
            os.killpg(server.pid, signal.SIGKILL)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="S", help="plant size (XS, S, M or a number of serials)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--requests", type=int, default=4000, help="max requests per scenario")
    ap.add_argument("--seconds", type=float, default=30.0, help="max seconds per scenario")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--scenarios", nargs="*", default=["batch", "impact", "traceBack"],
                    help="batch (a record page with relations: the API's own ceiling), impact, traceBack, "
                         "dashboard (GraphQL: recall board, complaints board, a record page, an impact), "
                         "dashboard_rest (the same reads over REST)")
    ap.add_argument("--read-cache", choices=["both", "on", "off"], default="both",
                    help="the servers' read cache (api/read_cache.py): both = off then on, in the same run")
    ap.add_argument("--no-wait-index", dest="wait_index", action="store_false",
                    help="start loading as soon as /health answers, while the workers still build their trace "
                         "indexes (the default waits until they are built: a server in service, not starting)")
    ap.add_argument("--name", default="api", help="results file perf/results/<name>-<date>.json")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from perf.harness import DATA_DIR, machine_info, plant, sample, write_results

    say = lambda m: print(m, file=sys.stderr, flush=True)
    handle = plant(args.size, say=say, data_dir=DATA_DIR / "api")
    p = handle.plant
    _ensure_user(handle.store)
    serials = [str(p.keys[i]) for i in sample(p.block("Serial").tolist(), 500)]
    lots = [str(p.keys[i]) for i in sample(p.block("MaterialLot").tolist(), 500)]
    batches = [str(p.keys[i]) for i in sample(p.block("Batch").tolist(), 500)]
    rows: list[dict[str, Any]] = []
    modes = {"both": ["off", "on"], "on": ["on"], "off": ["off"]}[args.read_cache]
    try:
        for mode in modes:  # the read cache off, then on: the baseline in the same run
            rows += _serve_and_load(args, handle, mode, serials, lots, batches, say)
    finally:
        handle.close()
    by = {(r["scenario"], r["read_cache"]): r for r in rows}
    for r in rows:
        base = by.get((r["scenario"], "off"))
        if r["read_cache"] == "on" and base and base["rps"]:
            r["vs_cache_off"] = {"rps": round(r["rps"] / base["rps"], 2),
                                 "p99": round((r["p99_ms"] or 0) / (base["p99_ms"] or 1), 2)}
            say(f"{r['scenario']}: read cache on/off = {r['vs_cache_off']['rps']}x req/s, "
                f"{r['vs_cache_off']['p99']}x p99")
    path = write_results(args.name, rows, meta={"size": handle.size, "nodes": p.n_nodes, "edges": p.n_edges,
                                            "machine": machine_info(), "client": "asyncio HTTP/1.1 keep-alive"})
    say(f"wrote {path}")
    print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
