"""EPCIS capture over HTTP (the GS1 EPCIS 2.0 REST binding) against the ERP bundle import of the
same plant, in one run (issue 16: "capture and import throughput").

    python -m perf.bench_epcis_capture                       # 2,000 serials: ~5,800 events
    python -m perf.bench_epcis_capture --serials 6000 --doc-events 2000 --single 500

What it does:
- generates a plant (same seed as perf/bench_epcis.py) as a CSV bundle and as EPCIS events, one
  event per unit and step (`one_event_per_unit`), sorted by eventTime as a line would send them;
- imports the bundle in process into one graph of an embedded FalkorDB (appendfsync always): the
  baseline, measured in the same run;
- starts `tracegraph serve` (a separate process, uvicorn, one worker) on another graph of the same
  database, adds a `capture_device` user (the role a packaging line gets: capture and nothing else)
  and logs in over REST;
- **documents**: all but the last `--single` events as `POST /epcis/capture` documents of
  `--doc-events` events each, one after the other (a partner or a line controller sending batches);
  each capture job is polled (`GET /epcis/capture/{id}`) until it has finished;
- **single events**: the last `--single` events one at a time with `POST /epcis/events` (a
  packaging line sending each event as it happens), each answered 201 only once it is stored;
- checks that the graph holds every event (one EpcisEvent each) and that `audit verify` is clean.

Prints events/s and latencies (p50/p95/p99) of both, each relative to the bundle's import rate
(items per second of the same plant), and writes perf/results/epcis-capture-<serials>.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
USER, PASSWORD = "line-7", "Capture-Device-Password-2026!"
GRAPH = "capture"


class Client:
    """One keep-alive HTTP/1.1 connection to the server (what a line controller holds open)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.token = ""

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
             ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/ld+json", **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
             **(headers or {})}
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(p * len(s)))] * 1000, 1) if s else 0.0


def _wait_health(port: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"tracegraph serve did not answer on port {port} within {timeout_s:.0f} s")


def _events(serials: int, seed: int, tmp: Path) -> tuple[Path, dict[str, Any]]:
    from perf.bench_epcis import one_event_per_unit
    from tracegraph.loaders.generator import generate_bundle

    generate_bundle(tmp / "plant", serials=serials, seed=seed, fmt="both")
    doc = json.loads(next((tmp / "plant" / "epcis").glob("*.jsonld")).read_text(encoding="utf-8"))
    events = one_event_per_unit(doc["epcisBody"]["eventList"])
    events.sort(key=lambda e: e["eventTime"])  # as they happen
    doc["epcisBody"]["eventList"] = events
    return tmp / "plant", doc


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from perf.harness import free_port, machine_info
    from tracegraph.engine.access import auth
    from tracegraph.engine.audit.chain import Actor
    from tracegraph.engine.audit.verify import verify
    from tracegraph.engine.imports.runner import run_import
    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.engine.stores.server import EmbeddedServer
    from tracegraph.loaders.bundle import load_bundle

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serials", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--doc-events", type=int, default=1000, help="events per POST /epcis/capture document")
    ap.add_argument("--single", type=int, default=300, help="events sent one at a time to POST /epcis/events")
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder of the JSON results")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"serials": args.serials, "seed": args.seed, "doc_events": args.doc_events,
                           "machine": machine_info(), "rows": []}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        plant, doc = _events(args.serials, args.seed, tmp)
        events = doc["epcisBody"]["eventList"]
        context = doc.get("@context")
        single = min(args.single, len(events))
        out["events"] = len(events)
        server = EmbeddedServer(tmp / "db", appendfsync="always")
        server.ensure_running()
        proc = None
        try:
            bundle = FalkorDBStore(unix_socket_path=str(server.socket_path), graph="bundle", server=server)
            bundle.drop_graph()
            bundle.apply_schema()
            b = load_bundle(plant)
            t0 = time.perf_counter()
            rep = run_import(bundle, b.batch, Actor("bench", "Bench Runner", frozenset({"system"})),
                             source_files=b.files)
            bundle_s = time.perf_counter() - t0
            bundle_rate = rep.items_written / bundle_s
            out["rows"].append({"what": "ERP bundle import (CSV, in process)", "seconds": round(bundle_s, 2),
                                "items": rep.items_written, "items_per_s": round(bundle_rate)})
            store = FalkorDBStore(unix_socket_path=str(server.socket_path), graph=GRAPH, server=server)
            store.drop_graph()
            store.apply_schema()
            auth.add_user(store, Actor.system("bench"), USER, "Packaging line 7", PASSWORD, ["capture_device"],
                          reason="capture benchmark")
            port = free_port()
            env = dict(os.environ, TRACEGRAPH_DATA_DIR=str(server.data_dir), TRACEGRAPH_GRAPH=GRAPH,
                       TRACEGRAPH_DATABASE_URL="", TRACEGRAPH_APPENDFSYNC="always")
            proc = subprocess.Popen([sys.executable, "-m", "tracegraph.cli", "serve", "--host", "127.0.0.1",
                                     "--port", str(port), "--workers", "1", "--log-level", "warning", "--keep-db"],
                                    env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    start_new_session=True)
            _wait_health(port)
            c = Client(port)
            st, _, body = c.call("POST", "/auth/login", {"username": USER, "password": PASSWORD})
            assert st == 200, body
            c.token = json.loads(body)["token"]

            # documents: POST /epcis/capture, then poll the job to its end
            head = events[:len(events) - single]
            lat: list[float] = []
            t0 = time.perf_counter()
            for i in range(0, len(head), args.doc_events):
                part = {**{k: v for k, v in doc.items() if k != "epcisBody"},
                        "epcisBody": {"eventList": head[i:i + args.doc_events]}}
                t1 = time.perf_counter()
                st, h, body = c.call("POST", "/epcis/capture", part, {"GS1-Capture-Error-Behaviour": "rollback"})
                assert st == 202, (st, body[:300])
                while True:
                    st, _, body = c.call("GET", h["location"])
                    job = json.loads(body)
                    if not job.get("running"):
                        break
                    time.sleep(0.02)
                assert job.get("success"), job
                lat.append(time.perf_counter() - t1)
            docs_s = time.perf_counter() - t0
            if head:
                out["rows"].append({"what": f"POST /epcis/capture, {args.doc_events} events a document",
                                    "seconds": round(docs_s, 2), "events": len(head), "documents": len(lat),
                                    "events_per_s": round(len(head) / docs_s),
                                    "p50_ms": _pct(lat, 0.5), "p95_ms": _pct(lat, 0.95),
                                    "relative_to_bundle_rate": round((len(head) / docs_s) / bundle_rate, 3)})

            # single events: POST /epcis/events, each answered once stored
            lat = []
            t0 = time.perf_counter()
            for e in events[len(events) - single:]:
                t1 = time.perf_counter()
                st, _, body = c.call("POST", "/epcis/events", {"@context": context, **e})
                assert st == 201, (st, body[:300])
                lat.append(time.perf_counter() - t1)
            one_s = time.perf_counter() - t0
            if single:
                out["rows"].append({"what": "POST /epcis/events, one event a request", "seconds": round(one_s, 2),
                                    "events": single, "events_per_s": round(single / one_s, 1),
                                    "p50_ms": _pct(lat, 0.5), "p95_ms": _pct(lat, 0.95), "p99_ms": _pct(lat, 0.99),
                                    "relative_to_bundle_rate": round((single / one_s) / bundle_rate, 4)})
        finally:
            if proc is not None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=30)
                except Exception:
                    os.killpg(proc.pid, signal.SIGKILL)
        try:
            held = store.run("MATCH (e:EpcisEvent) RETURN count(e) AS n")[0]["n"]
            t0 = time.perf_counter()
            ok = verify(store).ok
            out["check"] = {"events_sent": len(events), "events_stored": held, "audit_verify_ok": ok,
                            "verify_seconds": round(time.perf_counter() - t0, 2)}
            assert held == len(events) and ok, out["check"]
        finally:
            server.stop()
    print(f"{out['events']:,} events (one per unit and step), {args.serials:,} serials")
    for r in out["rows"]:
        rate = f"{r['events_per_s']:>9,} events/s" if "events_per_s" in r else f"{r['items_per_s']:>9,} items/s "
        extra = "".join(f"  {k} {r[k]}" for k in ("p50_ms", "p95_ms", "p99_ms") if k in r)
        rel = f"  {r['relative_to_bundle_rate']}x the bundle's rate" if "relative_to_bundle_rate" in r else ""
        print(f"{r['what']:44s} {r['seconds']:7.2f} s {rate}{extra}{rel}", flush=True)
    print(f"check: {out['check']}")
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"epcis-capture-{args.serials}.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
