"""`tracegraph serve` as users run it: a real uvicorn process on 127.0.0.1, JSON request logs,
graceful shutdown on SIGTERM (the embedded database it started is stopped); and
`tracegraph graphql-schema --check`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tracegraph.engine.stores.server import EmbeddedServer

ROOT = Path(__file__).resolve().parent.parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_answers_and_shuts_down_cleanly(tmp_path: Path) -> None:
    port = _port()
    env = dict(os.environ, TRACEGRAPH_DATA_DIR=str(tmp_path), TRACEGRAPH_APPENDFSYNC="everysec")
    env.pop("TRACEGRAPH_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracegraph.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": "probe-1"}),
                    timeout=2,
                ) as r:
                    body = json.loads(r.read())
                    assert r.headers["X-Request-ID"] == "probe-1"
                    break
            except OSError:
                time.sleep(0.3)
        assert body is not None, f"serve did not answer: {proc.stderr.read() if proc.poll() is not None else ''}"
        assert body["database_reachable"] is True and body["backend"] == "embedded"
        assert EmbeddedServer(tmp_path).status().answering
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/trace/back/X", timeout=5)
            raise AssertionError("expected 401")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        finally:
            stopped_by_serve = not EmbeddedServer(tmp_path).status().running
            EmbeddedServer(tmp_path).stop()  # never leave a database behind, whatever happened
    assert proc.returncode == 0, err[-2000:]
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    probe = [entry for entry in logs if entry.get("request_id") == "probe-1"]
    assert probe and probe[0]["route"] == "/health" and probe[0]["status"] == 200
    assert any(entry.get("event") == "store_closed" for entry in logs)
    assert "embedded database stopped" in err
    assert stopped_by_serve


def test_graphql_schema_check_passes_on_the_packaged_sdl() -> None:
    r = subprocess.run([sys.executable, "-m", "tracegraph.cli", "graphql-schema", "--check", "--json"],
                       capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["fresh"] is True
