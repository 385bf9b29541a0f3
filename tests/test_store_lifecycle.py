"""The embedded database's lifecycle: start, persist, restart, share, recover, clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracegraph.engine.errors import ConfigurationError, DatabaseUnavailable
from tracegraph.engine.stores import open_store
from tracegraph.engine.stores.server import EmbeddedServer
from tracegraph.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def _cli(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = dict(os.environ, TRACEGRAPH_DATA_DIR=str(data_dir))
    e.pop("TRACEGRAPH_DATABASE_URL", None)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tracegraph.cli", *args], capture_output=True, text=True, env=e, timeout=120
    )


@pytest.mark.req("REQ-DAT-005")
def test_start_write_stop_restart_keeps_data(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    store = open_store(s)
    store.run("CREATE (:Supplier {id: 'S-1', name: 'Resin Co'})")
    store.close()
    server = EmbeddedServer(tmp_path)
    assert server.stop() is True
    assert server.status().running is False
    store = open_store(s)  # starts again on the same folder
    rows = store.run("MATCH (s:Supplier {id: 'S-1'}) RETURN s.name AS name", write=False)
    assert rows == [{"name": "Resin Co"}]
    server.stop()


@pytest.mark.req("REQ-DAT-005")
def test_killed_server_is_recovered_without_losing_acknowledged_writes(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    store = open_store(s)
    for i in range(50):
        store.run("CREATE (:MaterialLot {id: $id})", {"id": f"L{i}"})
    pid = EmbeddedServer(tmp_path).status().pid
    assert pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while EmbeddedServer(tmp_path).status().running and time.monotonic() < deadline:
        time.sleep(0.05)
    st = EmbeddedServer(tmp_path).status()
    assert st.running is False and st.stale is True  # pid file left behind
    store = open_store(s)  # stale lock recovered, same data
    rows = store.run("MATCH (l:MaterialLot) RETURN count(l) AS c", write=False)
    assert rows[0]["c"] == 50
    EmbeddedServer(tmp_path).stop()


@pytest.mark.req("REQ-SYS-001")
def test_two_processes_share_one_server(tmp_path: Path) -> None:
    code = (
        "import sys; from tracegraph import open_store, load_settings;"
        "s = open_store(load_settings(data_dir=sys.argv[1]));"
        "s.run('CREATE (:Customer {id: $id})', {'id': sys.argv[2]});"
        "print(s.server.status().pid)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), f"C{i}"], stdout=subprocess.PIPE, text=True)
        for i in range(3)
    ]
    pids = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(pids) == 1, f"each process started its own server: {pids}"
    store = open_store(load_settings(data_dir=tmp_path))
    assert store.run("MATCH (c:Customer) RETURN count(c) AS c", write=False)[0]["c"] == 3
    EmbeddedServer(tmp_path).stop()


def test_cli_db_start_status_stop(tmp_path: Path) -> None:
    r = _cli(tmp_path, "db", "start", "--json")
    assert r.returncode == 0, r.stderr
    r = _cli(tmp_path, "db", "status", "--json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["running"] and st["answering"] and st["backend"] == "embedded"
    assert st["audit_head"]["seq"] == 0
    r = _cli(tmp_path, "db", "stop")
    assert r.returncode == 0 and "stopped" in r.stdout
    r = _cli(tmp_path, "db", "status", "--json")
    assert r.returncode == 3 and json.loads(r.stdout)["running"] is False


@pytest.mark.req("REQ-SYS-001")
def test_bad_url_is_one_clear_line(tmp_path: Path) -> None:
    r = _cli(tmp_path, "db", "status", env={"TRACEGRAPH_DATABASE_URL": "http://example"})
    assert r.returncode == 1
    assert "unsupported database URL scheme 'http'" in r.stderr
    assert "Traceback" not in r.stderr
    with pytest.raises(ConfigurationError):
        load_settings(database_url="mysql://x")


@pytest.mark.req("REQ-SYS-001")
def test_unreachable_database_names_what_was_tried() -> None:
    s = load_settings(database_url="falkordb://127.0.0.1:1", connect_timeout_s=1)
    with pytest.raises(DatabaseUnavailable) as err:
        open_store(s)
    assert "falkordb://127.0.0.1:1" in str(err.value)


def test_long_data_dir_falls_back_to_short_socket(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    server = EmbeddedServer(deep)
    assert len(str(server.socket_path)) <= 100
    server.ensure_running()
    assert server.ping()
    server.stop()


def test_busy_preparing_to_fork_is_waited_out(empty_store) -> None:
    """FalkorDB refuses queries with "BUSY preparing to fork" while redis forks for an AOF rewrite
    (seen loading 10M units). The store asks again; other errors still surface at once. The real
    graph answers; only the refusal is injected, because a fork cannot be timed from a test."""
    import redis

    real = empty_store._graph

    class Refusing:
        def __init__(self, times: int, message: str) -> None:
            self.left, self.message, self.calls = times, message, 0

        def __getattr__(self, name):
            return getattr(real, name)

        def _refuse(self) -> None:
            self.calls += 1
            if self.left:
                self.left -= 1
                raise redis.ResponseError(self.message)

        def query(self, *a, **k):
            self._refuse()
            return real.query(*a, **k)

        def execute_command(self, *a, **k):  # the raw reads of the fast readers (ro_command)
            self._refuse()
            return real.execute_command(*a, **k)

    empty_store._graph = Refusing(2, "BUSY preparing to fork")
    try:
        assert empty_store.run("CREATE (n:Probe {id: 'p1'}) RETURN n.id AS id") == [{"id": "p1"}]
        assert empty_store._graph.calls == 3
        empty_store._graph = Refusing(1, "some other failure")
        with pytest.raises(Exception, match="some other failure"):
            empty_store.run("CREATE (n:Probe {id: 'p2'}) RETURN n.id AS id")
        # the raw reads (impact.read_fast, the trace index) wait it out the same way
        empty_store._graph = Refusing(2, "BUSY preparing to fork")
        reply = empty_store.ro_command("MATCH (n:Probe) RETURN count(n) AS n")
        assert reply[1][0][0][1] == 1 and empty_store._graph.calls == 3
    finally:
        empty_store._graph = real
    assert empty_store.run("MATCH (n:Probe) RETURN count(n) AS n", write=False) == [{"n": 1}]
