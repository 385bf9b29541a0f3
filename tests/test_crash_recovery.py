"""Crash recovery converges (issue 15 item 5): the importer killed mid-staging on a database that
holds a committed import, then the next import succeeds and equals a clean import; the database
killed with SIGKILL restarts with no CRITICAL line in its log (no failing schema command was
ever written to the append-only file) and the same graph; bulk deletes leave no "ghost" nodes
(FalkorDB defect #2103, worked around in engine/imports/runner.sync_labels). The long random
loop is perf/crash_loop.py (run by hand)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_snapshot import snapshot
from test_import_atomicity import KILLER
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.imports.runner import check_no_ghosts, get_import, run_import, unfinished_imports
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.engine.stores.server import EmbeddedServer, _pid_alive
from tracegraph.loaders.bundle import load_bundle
from tracegraph.loaders.generator import generate_bundle

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "bundle_small"
ACTOR = Actor(id="u-ops", name="Olga Ops", roles=frozenset({"importer"}))


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plant") / "plant-1k"
    generate_bundle(out, serials=1000, seed=11)
    return out


@pytest.fixture()
def own_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A server of its own (appendfsync always): this test kills and restarts it."""
    server = EmbeddedServer(tmp_path / "data")
    server.ensure_running()
    yield server
    server.stop()


def imp(store: FalkorDBStore, path: Path, **kw: object):  # type: ignore[no-untyped-def]
    b = load_bundle(path)
    return run_import(store, b.batch, ACTOR, source_files=b.files, **kw)  # type: ignore[arg-type]


def test_killed_import_then_next_import_and_restart_converge(own_server: EmbeddedServer, empty_store: FalkorDBStore,
                                                             plant: Path) -> None:
    store = FalkorDBStore(unix_socket_path=str(own_server.socket_path), graph="tracegraph", server=own_server)
    store.apply_schema()
    imp(store, FIXTURE)  # a committed import already in the graph
    # the importer kills itself with SIGKILL after the 4th staged chunk of 300 records
    proc = subprocess.run([sys.executable, "-c", KILLER, str(own_server.socket_path), "tracegraph", str(plant),
                           "stage", "4", "300"], capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9, proc.stderr[-2000:]
    (killed,) = unfinished_imports(store)
    assert killed.status == "staging"
    rep = imp(store, plant)  # rolls the killed run back, then imports
    assert rep.status == "committed"
    assert get_import(store, killed.id).status == "rolled_back"
    check_no_ghosts(store, ["Serial", "Batch", "Shipment", "MaterialLot", "Customer"])
    imp(empty_store, FIXTURE)
    imp(empty_store, plant)
    clean = snapshot(empty_store)
    assert snapshot(store) == clean
    assert verify(store).ok
    store.apply_schema()  # every start re-applies the schema: nothing that fails may reach the log
    store.close()

    # kill -9 of the database, then a restart: replay without errors, same graph
    pid = own_server._read_pid()
    assert pid is not None
    mark = len(own_server.logfile.read_text(errors="replace"))
    os.kill(pid, signal.SIGKILL)
    while _pid_alive(pid):
        pass
    own_server.ensure_running()
    log = own_server.logfile.read_text(errors="replace")[mark:]
    assert "Ready to accept connections" in log or "DB loaded from" in log
    assert "CRITICAL" not in log, [ln for ln in log.splitlines() if "CRITICAL" in ln][:3]
    store = FalkorDBStore(unix_socket_path=str(own_server.socket_path), graph="tracegraph", server=own_server)
    try:
        assert snapshot(store) == clean
        assert verify(store).ok
        assert imp(store, plant).items_written == 0  # and the same import again changes nothing
    finally:
        store.close()


def test_schema_is_applied_once_so_replay_has_no_errors(own_server: EmbeddedServer) -> None:
    """Starts re-apply the schema; only missing indexes/constraints are sent, and the constraint
    commands FalkorDB logs are compacted away, so a restart replays cleanly."""
    def constraint_calls(s: FalkorDBStore) -> int:
        stats = s._db.connection.info("commandstats")
        return int(next((v["calls"] for k, v in stats.items() if k.lower() == "cmdstat_graph.constraint"), 0))

    calls = []
    for i in range(3):
        s = FalkorDBStore(unix_socket_path=str(own_server.socket_path), graph="g2", server=own_server)
        s.apply_schema()
        if i == 0:  # the first created the constraints and compacted: later starts add to a fresh log
            s.compact_log(wait=True)
        calls.append(constraint_calls(s))
        s.close()
    assert calls[0] > 0 and calls[1] == calls[0] and calls[2] == calls[0], calls  # never sent again
    own_server.stop()
    mark = len(own_server.logfile.read_text(errors="replace"))
    own_server.ensure_running()
    assert "CRITICAL" not in own_server.logfile.read_text(errors="replace")[mark:]
    s = FalkorDBStore(unix_socket_path=str(own_server.socket_path), graph="g2", server=own_server)
    try:
        rows = s.run("CALL db.constraints() YIELD status RETURN status", write=False)
        assert rows and all(r["status"] == "OPERATIONAL" for r in rows)
    finally:
        s.close()


def test_bulk_delete_after_large_create_leaves_no_ghosts(empty_store: FalkorDBStore) -> None:
    """The FalkorDB 4.16 defect the rollback works around (docs/falkordb.md), reproduced: nodes
    deleted right after a large create stay visible to a label scan without attributes, unless the
    label's matrix was read first. If FalkorDB fixes it, the first assertion tells us."""
    from tracegraph.engine.errors import DatabaseError

    def scenario(sync: bool) -> str:
        g = f"{empty_store.graph_name}_{int(sync)}"
        s = FalkorDBStore(unix_socket_path=empty_store.location.removeprefix("unix:"), graph=g)
        try:
            s.run("CREATE (:Ghost {id: 0})")
            s.run("UNWIND range(0, 100000) AS x CREATE ()")
            if sync:
                s.run("MATCH (n:Ghost) RETURN n.id LIMIT 1", write=False)
            s.run("MATCH (x) WITH x LIMIT 10000 DELETE x")
            try:
                s.run("MATCH (n:Ghost) RETURN count(n.id) AS c", write=False)
                return "clean"
            except DatabaseError as exc:
                return "ghost" if "undefined attribute" in str(exc) else str(exc)
        finally:
            s.drop_graph()
            s.close()

    assert scenario(sync=False) == "ghost"
    assert scenario(sync=True) == "clean"
