"""Time to recover the embedded database after `kill -9`, at a given plant size.

    python -m perf.recovery --serials 1000000

Generates a plant, imports it into a fresh embedded FalkorDB (appendfsync always), then for
two states of the append-only file: (a) as the import left it (compacted by the import), (b)
after 2,000 more single-statement writes on top of it (a snapshot plus a tail to replay), kills
the server with SIGKILL and measures how long `EmbeddedServer.ensure_running` takes until the
server answers (the wait follows redis' INFO loading fields, no fixed give-up), and counts
CRITICAL lines in the server log after the restart (there must be none). Writes
perf/results/recovery-<serials>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _aof_bytes(data: Path) -> int:
    return sum(p.stat().st_size for p in (data / "appendonlydir").glob("*") if p.is_file())


def _kill_and_restart(server: Any, label: str) -> dict[str, Any]:
    pid = server._read_pid()
    log_before = server.logfile.read_text(errors="replace") if server.logfile.exists() else ""
    os.kill(pid, signal.SIGKILL)
    from tracegraph.engine.stores.server import _pid_alive

    while _pid_alive(pid):
        time.sleep(0.01)
    shows: list[float] = []
    server.on_loading = lambda info: shows.append(float(info.get("loading_loaded_perc", 0) or 0))
    t0 = time.perf_counter()
    server.ensure_running()
    seconds = time.perf_counter() - t0
    log_after = server.logfile.read_text(errors="replace")[len(log_before):]
    return {"state": label, "recover_s": round(seconds, 2), "aof_mb": round(_aof_bytes(server.data_dir) / 1e6, 1),
            "progress_lines": len(shows), "critical_lines": log_after.count("CRITICAL")}


def _backup_restore(server: Any, work: Path) -> dict[str, Any]:
    """Seconds to back up (encrypted), verify offline (throwaway load + audit verify) and restore
    (load, fresh AOF, start, audit verify): the RTO of a restore at this size."""
    from tracegraph.engine.ops.backup import restore_backup, take_backup, verify_backup
    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.engine.stores.server import EmbeddedServer

    store = FalkorDBStore(unix_socket_path=str(server.socket_path), graph="tracegraph", server=server,
                          query_timeout_s=600)
    pw = b"perf passphrase"
    t0 = time.perf_counter()
    rep = take_backup(store, server.data_dir, work / "b.tgbk", passphrase=pw)
    t1 = time.perf_counter()
    check = verify_backup(work / "b.tgbk", passphrase=pw)
    t2 = time.perf_counter()
    out = restore_backup(work / "b.tgbk", work / "restored", passphrase=pw)
    t3 = time.perf_counter()
    store.close()
    EmbeddedServer(work / "restored").stop()
    return {"backup_s": round(t1 - t0, 1), "backup_mb": round(rep.bytes / 1e6, 1), "verify_s": round(t2 - t1, 1),
            "verify_ok": check.ok, "restore_s": round(t3 - t2, 1), "restore_ok": out.ok}


def run(serials: int, *, seed: int = 1) -> dict[str, Any]:
    from tracegraph.engine.audit.chain import Actor
    from tracegraph.engine.imports.runner import run_import
    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.engine.stores.server import EmbeddedServer
    from tracegraph.loaders.bundle import load_bundle
    from tracegraph.loaders.generator import generate_bundle

    work = Path(tempfile.mkdtemp(prefix="tg-recovery-"))
    try:
        t0 = time.perf_counter()
        generate_bundle(work / "plant", serials=serials, seed=seed)
        gen_s = time.perf_counter() - t0
        server = EmbeddedServer(work / "db")
        server.ensure_running()
        store = FalkorDBStore(unix_socket_path=str(server.socket_path), graph="tracegraph", server=server,
                              query_timeout_s=600)
        store.apply_schema()
        b = load_bundle(work / "plant")
        t0 = time.perf_counter()
        rep = run_import(store, b.batch, Actor(id="u-perf", name="Perf"), source_files=b.files)
        import_s = time.perf_counter() - t0
        store.compact_log(wait=True)
        store.close()
        rows = [_kill_and_restart(server, "after import (compacted)")]
        store = FalkorDBStore(unix_socket_path=str(server.socket_path), graph="tracegraph", server=server)
        for i in range(2000):
            store.run("MERGE (n:PerfTail {id: $i}) SET n.v = $i", {"i": i})
        store.close()
        rows.append(_kill_and_restart(server, "plus 2,000 writes not compacted"))
        backup = _backup_restore(server, work)
        server.stop()
        return {"serials": serials, "items": rep.items_written, "generate_s": round(gen_s, 1),
                "import_s": round(import_s, 1), "restarts": rows, "backup": backup}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serials", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    out = run(a.serials, seed=a.seed)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"recovery-{a.serials}.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
