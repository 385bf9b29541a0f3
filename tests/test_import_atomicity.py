"""All or nothing under kill -9: an import process is SIGKILLed after some chunks (while staging,
or while committing); rollback, resume, or the automatic check at the next import must leave the
graph exactly as before or exactly as after."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph_snapshot import snapshot
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import Conflict
from tracegraph.engine.imports.runner import (
    get_import,
    recover_unfinished,
    resume_import,
    rollback_import,
    run_import,
    unfinished_imports,
)
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.loaders.bundle import load_bundle
from tracegraph.loaders.generator import generate_bundle

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "bundle_small"
ACTOR = Actor(id="u-ops", name="Olga Ops", roles=frozenset({"importer"}))

#: the import, in a process of its own that kills itself with SIGKILL after step N of a phase
KILLER = r"""
import os, signal, sys
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.imports.runner import run_import
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.loaders.bundle import load_bundle
sock, graph, bundle, phase, at, chunk = sys.argv[1:7]
store = FalkorDBStore(unix_socket_path=sock, graph=graph)
b = load_bundle(bundle)
seen = {}
def progress(p, done, total):  # called after each finished step (chunk) of a phase
    seen[p] = seen.get(p, 0) + 1
    if p == phase and seen[p] >= int(at):
        os.kill(os.getpid(), signal.SIGKILL)
run_import(store, b.batch, Actor(id="u-killed", name="Killed Import"), source_files=b.files,
           progress=progress, chunk_size=int(chunk))
print("FINISHED WITHOUT BEING KILLED")
"""


@pytest.fixture()
def reference(embedded_server: Any, request: pytest.FixtureRequest) -> Iterator[FalkorDBStore]:
    """A second fresh graph, to build the expected 'after' state without interruption."""
    s = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path),
                      graph=f"ref_{request.node.name[-30:]}_{os.getpid()}", server=embedded_server)
    s.drop_graph()
    s.apply_schema()
    yield s
    s.drop_graph()
    s.close()


def kill_during(store: FalkorDBStore, bundle: Path, phase: str, at: int, chunk: int) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(store.server.socket_path), store.graph_name, str(bundle), phase, str(at),
         str(chunk)],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert proc.returncode == -9, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    (run,) = unfinished_imports(store)
    return run.id


def joined_to_existing(store: FalkorDBStore, run_id: str) -> int:
    """Edges between a node staged by `run_id` and any node that is not (either direction)."""
    rows = store.run("MATCH (a)-[e]-(b) WHERE a.import_id = $id AND coalesce(b.import_id, '') <> $id "
                     "RETURN count(e) AS c", {"id": run_id})
    return int(rows[0]["c"])


def imp(store: Any, path: Path, **kw: Any):
    b = load_bundle(path)
    return run_import(store, b.batch, ACTOR, source_files=b.files, **kw)


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plant") / "plant-1k"
    generate_bundle(out, serials=1000, seed=11)
    return out


@pytest.mark.req("REQ-IMP-002")
def test_kill_while_staging_then_rollback_restores_before(empty_store: FalkorDBStore, plant: Path) -> None:
    imp(empty_store, FIXTURE)  # some unrelated data already in the graph
    before = snapshot(empty_store)
    run_id = kill_during(empty_store, plant, "stage", 5, 300)
    info = get_import(empty_store, run_id)
    assert info.status == "staging" and info.actor == "u-killed"
    assert snapshot(empty_store) != before  # the killed import did write some chunks
    # staged nodes are not joined to existing data: a trace from existing nodes cannot see them
    assert joined_to_existing(empty_store, run_id) == 0
    with pytest.raises(Conflict):  # committed imports can't be undone; a staging one can't be resumed w/o input
        resume_import(empty_store, run_id, ACTOR, batch=load_bundle(FIXTURE).batch,
                      source_files=load_bundle(FIXTURE).files)
    rep = rollback_import(empty_store, run_id, ACTOR)
    assert rep.status == "rolled_back"
    assert snapshot(empty_store) == before
    assert get_import(empty_store, run_id).status == "rolled_back"
    assert empty_store.run("MATCH (p:ImportPending) RETURN count(p) AS c")[0]["c"] == 0
    # the lock is free again: the same plant now imports completely
    assert imp(empty_store, plant).status == "committed"


@pytest.mark.req("REQ-IMP-002")
def test_next_import_rolls_back_a_dead_staging_run(empty_store: FalkorDBStore, reference: FalkorDBStore,
                                                  plant: Path) -> None:
    run_id = kill_during(empty_store, plant, "stage", 3, 500)
    rep = imp(empty_store, plant)  # the automatic check runs first
    assert rep.status == "committed"
    assert get_import(empty_store, run_id).status == "rolled_back"
    imp(reference, plant)
    assert snapshot(empty_store) == snapshot(reference)


def _second_bundle(tmp_path: Path) -> Path:
    """Changes to existing records and new edges to existing nodes: these are commit-phase work."""
    b = tmp_path / "second"
    shutil.copytree(FIXTURE, b)
    lots = (b / "material_lots.csv").read_text(encoding="utf-8")
    (b / "material_lots.csv").write_text(lots.replace("SUP-ACME,250,kg", "SUP-ACME,260,kg")
                                         .replace("5000,ea,2026-01-07", "5100,ea,2026-01-07"), encoding="utf-8")
    with (b / "consumptions.csv").open("a", encoding="utf-8") as fh:
        fh.write("lot,LOT-PC-2602,FG-2602,3,kg,2026-01-22T07:20:00+01:00\n")
        fh.write("lot,LOT-LUER-56,FG-2601,2,ea,2026-01-12T07:20:00+01:00\n")
    with (b / "serials.csv").open("a", encoding="utf-8") as fh:
        fh.write("IP-0005,,04012345000016,IP-0005,FG-2601,04012345000016,in_stock,WH-FG-1,,2031-01-31\n")
    cus = (b / "customers.csv").read_text(encoding="utf-8")
    (b / "customers.csv").write_text(cus.replace("Petra Schulz", "Petra Schulz-Lang"), encoding="utf-8")
    return b


def test_staged_nodes_stay_an_island_in_an_incremental_import(empty_store: FalkorDBStore,
                                                              tmp_path: Path) -> None:
    """A new serial of an existing batch: the PRODUCED edge from the existing batch waits for the
    commit, so a forward trace from that batch cannot see the staged serial."""
    second = _second_bundle(tmp_path)
    imp(empty_store, FIXTURE)
    before = snapshot(empty_store)
    run_id = kill_during(empty_store, second, "stage", 1, 1)
    assert empty_store.run("MATCH (s:Serial {id: 'IP-0005'}) RETURN s.import_id AS i")[0]["i"] == run_id
    assert joined_to_existing(empty_store, run_id) == 0
    reached = empty_store.run("MATCH (:Batch {id: 'FG-2601'})-[*1..3]->(s:Serial) RETURN collect(s.id) AS ids")
    assert "IP-0005" not in reached[0]["ids"]
    rollback_import(empty_store, run_id, ACTOR)
    assert snapshot(empty_store) == before


@pytest.mark.req("REQ-IMP-002")
def test_kill_while_committing_then_resume_gives_exactly_after(empty_store: FalkorDBStore, reference: FalkorDBStore,
                                                              tmp_path: Path) -> None:
    second = _second_bundle(tmp_path)
    imp(empty_store, FIXTURE)
    imp(reference, FIXTURE)
    imp(reference, second)
    after = snapshot(reference)
    run_id = kill_during(empty_store, second, "commit", 2, 1)
    info = get_import(empty_store, run_id)
    assert info.status == "committing"
    assert snapshot(empty_store) != after  # half committed
    with pytest.raises(Conflict):
        rollback_import(empty_store, run_id, ACTOR)  # decided: only forward
    rep = resume_import(empty_store, run_id, ACTOR)  # needs no input
    assert rep.status == "committed"
    assert snapshot(empty_store) == after
    assert get_import(empty_store, run_id).status == "committed"
    # the before/after of the changed lot is in the audit chain exactly once
    changes = [c for r in empty_store.run("MATCH (e:AuditEntry) RETURN e.changes AS c") for c in json.loads(r["c"])
               if c.get("key") == "LOT-PC-2602"]
    assert changes == [{"key": "LOT-PC-2602", "field": "MaterialLot.qty_received", "old": 250.0, "new": 260.0,
                        "state": False}]


def test_next_import_finishes_a_dead_committing_run(empty_store: FalkorDBStore, reference: FalkorDBStore,
                                                   tmp_path: Path) -> None:
    second = _second_bundle(tmp_path)
    imp(empty_store, FIXTURE)
    imp(reference, FIXTURE)
    imp(reference, second)
    run_id = kill_during(empty_store, second, "commit", 1, 1)
    reports = recover_unfinished(empty_store, ACTOR)
    assert [r.status for r in reports] == ["committed"]
    assert get_import(empty_store, run_id).status == "committed"
    assert snapshot(empty_store) == snapshot(reference)
    assert imp(empty_store, second).items_written == 0  # and it is idempotent afterwards


def test_resume_of_a_staging_run_restarts_from_the_same_files(empty_store: FalkorDBStore,
                                                             reference: FalkorDBStore, plant: Path) -> None:
    run_id = kill_during(empty_store, plant, "stage", 2, 400)
    b = load_bundle(plant)
    rep = resume_import(empty_store, run_id, ACTOR, batch=b.batch, source_files=b.files)
    assert rep.status == "committed" and run_id in rep.message
    imp(reference, plant)
    assert snapshot(empty_store) == snapshot(reference)


def test_a_live_import_is_never_recovered_under_its_feet(empty_store: FalkorDBStore, plant: Path) -> None:
    run_id = kill_during(empty_store, plant, "stage", 1, 500)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        # pretend the import's process is still alive (it is the sleeper's pid now)
        empty_store.run("MATCH (r:ImportRun {id: $id}) SET r.pid = $pid", {"id": run_id, "pid": sleeper.pid})
        with pytest.raises(Conflict, match="still running"):
            imp(empty_store, FIXTURE)
        with pytest.raises(Conflict):
            rollback_import(empty_store, run_id, ACTOR)
        # a run started on another host is left alone by the automatic check...
        empty_store.run("MATCH (r:ImportRun {id: $id}) SET r.host = 'other-host'", {"id": run_id})
        with pytest.raises(Conflict, match="other-host"):
            imp(empty_store, FIXTURE)
    finally:
        sleeper.kill()
        sleeper.wait()
    # ...but an operator may roll it back explicitly
    assert rollback_import(empty_store, run_id, ACTOR).status == "rolled_back"
    assert imp(empty_store, FIXTURE).status == "committed"
