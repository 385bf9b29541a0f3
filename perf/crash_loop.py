"""Fault injection, run by hand: `kill -9` of the importer and of the database at random moments,
during imports and during plain audited writes, then the checks of issue 15 item 5.

    python -m perf.crash_loop --minutes 10 --trials 200 --serials 2000

Every trial uses a fresh data folder holding a committed import (tests/fixtures/bundle_small) and
the embedded database with `appendfsync always`. Four kinds, in turn:

    import/kill-importer   SIGKILL the importer process at a random moment of its import
    import/kill-database   SIGKILL redis-server at a random moment of an import
    writes/kill-writer     SIGKILL a process doing audited single-record writes
    writes/kill-database   SIGKILL redis-server while that process writes

Checks after each (the database restarted when it was killed): every write the writer had seen
acknowledged is there (0 lost); the next import of the plant succeeds (recovering the killed run)
and gives the same business graph as a clean import (tests/graph_snapshot.py); `audit verify`
(chain and record state) passes; and the restart logged no CRITICAL line. Prints counts per kind
and writes perf/results/crash-loop-<serials>.json. Bounded by --trials and --minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
FIXTURE = ROOT / "tests" / "fixtures" / "bundle_small"
RESULTS = Path(__file__).resolve().parent / "results"
GRAPH = "tracegraph"

IMPORTER = r"""
import sys
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.imports.runner import run_import
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.loaders.bundle import load_bundle
sock, graph, bundle, chunk = sys.argv[1:5]
store = FalkorDBStore(unix_socket_path=sock, graph=graph)
b = load_bundle(bundle)
print("START", flush=True)
run_import(store, b.batch, Actor(id="u-crash", name="Crash Loop"), source_files=b.files, chunk_size=int(chunk))
print("DONE", flush=True)
"""

WRITER = r"""
import sys
from tracegraph.engine import commands
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.stores.falkordb import FalkorDBStore
sock, graph, prefix = sys.argv[1:4]
store = FalkorDBStore(unix_socket_path=sock, graph=graph)
qa = Actor("qa.crash", "Crash Writer", frozenset({"qa_manager"}))
print("START", flush=True)
i = 0
while True:
    key = f"{prefix}-{i:06d}"
    commands.create(store, "Batch", key, {"product_id": "P-1", "qty": float(i)}, qa)
    print("ACK", key, flush=True)  # only after the write returned
    i += 1
"""

KINDS = ["import/kill-importer", "import/kill-database", "writes/kill-writer", "writes/kill-database"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _actor() -> Any:
    from tracegraph.engine.audit.chain import Actor

    return Actor(id="u-ops", name="Olga Ops", roles=frozenset({"importer"}))


def _import(store: Any, bundle: Path, chunk: int) -> Any:
    from tracegraph.engine.imports.runner import run_import
    from tracegraph.loaders.bundle import load_bundle

    b = load_bundle(bundle)
    return run_import(store, b.batch, _actor(), source_files=b.files, chunk_size=chunk)


def _store(server: Any) -> Any:
    from tracegraph.engine.stores.falkordb import FalkorDBStore

    return FalkorDBStore(unix_socket_path=str(server.socket_path), graph=GRAPH, server=server, query_timeout_s=120)


def _kill_server(server: Any) -> None:
    from tracegraph.engine.stores.server import _pid_alive

    pid = server._read_pid()
    if pid:
        os.kill(pid, signal.SIGKILL)
        while _pid_alive(pid):
            time.sleep(0.01)


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env(), cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # imports done, connected: the random moment starts from here
    if not line.startswith("START"):
        raise RuntimeError(f"child did not start: {line} {proc.stderr.read() if proc.stderr else ''}")
    return proc


def trial(kind: str, work: Path, plant: Path, reference: Any, chunk: int, import_s: float,
          rng: random.Random) -> dict[str, Any]:
    from graph_snapshot import snapshot
    from tracegraph.engine.audit.verify import verify
    from tracegraph.engine.stores.server import EmbeddedServer

    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    server = EmbeddedServer(data)
    server.ensure_running()
    store = _store(server)
    store.apply_schema()
    _import(store, FIXTURE, chunk)
    at = 0.0
    acked: list[str] = []
    if kind.startswith("import/"):
        at = rng.uniform(0.0, import_s * 1.1)
        proc = _spawn(IMPORTER, str(server.socket_path), GRAPH, str(plant), str(chunk))
    else:
        at = rng.uniform(0.05, 1.5)
        proc = _spawn(WRITER, str(server.socket_path), GRAPH, f"W{rng.randrange(10**6)}")
    time.sleep(at)
    if kind.endswith("kill-database"):
        _kill_server(server)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    else:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    out = proc.stdout.read() if proc.stdout else ""
    acked = [ln.split()[1] for ln in out.splitlines() if ln.startswith("ACK ")]
    finished = "DONE" in out
    store.close()
    log_mark = len(server.logfile.read_text(errors="replace")) if server.logfile.exists() else 0
    restarted = kind.endswith("kill-database")
    if restarted:
        server.ensure_running()
    store = _store(server)
    result: dict[str, Any] = {"kind": kind, "at_s": round(at, 3), "import_finished_before_kill": finished,
                              "acked": len(acked)}
    try:
        new_log = server.logfile.read_text(errors="replace")[log_mark:] if restarted else ""
        critical = new_log.count("CRITICAL")
        if critical:
            result["critical_sample"] = [ln for ln in new_log.splitlines() if "CRITICAL" in ln][:3]
        present = set()
        if acked:
            rows = store.run("UNWIND $keys AS k MATCH (b:Batch {id: k}) RETURN b.id AS id", {"keys": acked},
                             write=False)
            present = {r["id"] for r in rows}
        lost = len(set(acked) - present)
        rep = _import(store, plant, chunk)  # recovers the killed run first
        same = snapshot(store) == reference if kind.startswith("import/") else None
        if kind.startswith("writes/"):
            # the writer's extra Batch records are not in the reference: compare without them
            same = _without_writes(snapshot(store)) == reference
        ver = verify(store)
        result.update(lost=lost, next_import=rep.status, same_as_clean=same, verify_ok=ver.ok,
                      critical_lines=critical, ok=lost == 0 and rep.status == "committed" and bool(same) and ver.ok
                      and critical == 0)
        if not ver.ok:
            result["verify_error"] = str(ver.first_error)
    except Exception as exc:  # a failed check is a result, not a crash of the loop
        result.update(ok=False, error=f"{type(exc).__name__}: {str(exc)[:500]}")
    finally:
        store.close()
        server.stop()
    return result


def _without_writes(snap: Any) -> Any:
    nodes, edges = snap
    keys = {json.loads(p)["id"] for lab, p in nodes if lab == "Batch" and json.loads(p)["id"].startswith("W")}
    return ([n for n in nodes if not (n[0] == "Batch" and json.loads(n[1])["id"] in keys)],
            [e for e in edges if e[1] not in keys and e[2] not in keys])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--serials", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=500, help="records per statement: more statements to be cut between")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--kinds", nargs="*", choices=KINDS, default=KINDS, help="which faults, in turn")
    a = ap.parse_args()
    from graph_snapshot import snapshot
    from tracegraph.engine.stores.server import EmbeddedServer
    from tracegraph.loaders.generator import generate_bundle

    rng = random.Random(a.seed)
    work = Path(tempfile.mkdtemp(prefix="tg-crash-loop-"))
    deadline = time.monotonic() + a.minutes * 60
    results: list[dict[str, Any]] = []
    try:
        plant = work / "plant"
        generate_bundle(plant, serials=a.serials, seed=11)
        ref_server = EmbeddedServer(work / "ref", appendfsync="everysec")
        ref_server.ensure_running()
        ref = _store(ref_server)
        ref.apply_schema()
        _import(ref, FIXTURE, a.chunk)
        t0 = time.perf_counter()
        _import(ref, plant, a.chunk)
        import_s = time.perf_counter() - t0
        reference = snapshot(ref)
        ref.close()
        ref_server.stop()
        for i in range(a.trials):
            if time.monotonic() > deadline:
                break
            r = trial(a.kinds[i % len(a.kinds)], work, plant, reference, a.chunk, import_s, rng)
            results.append(r)
            print(json.dumps(r), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary: dict[str, Any] = {"serials": a.serials, "chunk": a.chunk, "trials": len(results),
                               "failed": sum(not r["ok"] for r in results),
                               "acknowledged_writes": sum(r["acked"] for r in results),
                               "lost_writes": sum(r.get("lost", 0) for r in results), "by_kind": {}}
    for k in KINDS:
        rs = [r for r in results if r["kind"] == k]
        summary["by_kind"][k] = {"trials": len(rs), "ok": sum(r["ok"] for r in rs),
                                 "killed_mid_import": sum(not r["import_finished_before_kill"] for r in rs)
                                 if k.startswith("import/") else None}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"crash-loop-{a.serials}-seed{a.seed}.json").write_text(json.dumps({"summary": summary, "trials": results},
                                                                      indent=1) + "\n")
    print(json.dumps(summary, indent=2))
    if summary["failed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
