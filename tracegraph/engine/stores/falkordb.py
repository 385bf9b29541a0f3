"""FalkorDBStore: the embedded default, and any remote FalkorDB given falkordb://host:port.

FalkorDB runs one GRAPH.QUERY atomically and serialises writes, but has no multi-statement
transactions: every business write is one statement (see engine/audit/chain.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

import redis
from falkordb import FalkorDB

from tracegraph import queries
from tracegraph.engine.errors import (
    ConstraintViolation,
    DatabaseError,
    DatabaseTimeout,
    DatabaseUnavailable,
)
from tracegraph.engine.stores.base import Row, plain
from tracegraph.engine.stores.falkordb_params import params_header, pre_encode
from tracegraph.engine.stores.server import EmbeddedServer

_T = TypeVar("_T")
#: how long a query refused with "BUSY preparing to fork" is asked again before the error shows
BUSY_RETRY_S = 30.0


def _busy(exc: BaseException) -> bool:
    return "preparing to fork" in str(exc)


class FalkorDBStore:
    """A graph in FalkorDB, reached over a unix socket (embedded) or TCP (remote)."""

    backend = "falkordb"

    def __init__(
        self,
        *,
        unix_socket_path: str | None = None,
        host: str | None = None,
        port: int | None = None,
        password: str | None = None,
        username: str | None = None,
        graph: str = "tracegraph",
        connect_timeout_s: float = 5.0,
        query_timeout_s: float = 60.0,
        server: EmbeddedServer | None = None,
    ) -> None:
        self.graph_name = graph
        self.server = server
        self.connect_timeout_s = connect_timeout_s
        self.query_timeout_s = query_timeout_s
        self.location = f"unix:{unix_socket_path}" if unix_socket_path else f"falkordb://{host}:{port}"
        kwargs: dict[str, Any] = dict(
            socket_timeout=query_timeout_s + 5,
            socket_connect_timeout=connect_timeout_s,
            password=password or None,
            username=username or None,
        )
        if unix_socket_path:
            kwargs["unix_socket_path"] = unix_socket_path
        else:
            kwargs["host"], kwargs["port"] = host, port
        try:
            self._db = FalkorDB(**kwargs)
            self._graph = self._db.select_graph(graph)
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None
        if not self.ping():
            raise DatabaseUnavailable(
                f"could not reach FalkorDB at {self.location} within {connect_timeout_s:.0f} s",
                hint="check TRACEGRAPH_DATABASE_URL, or leave it empty to use the embedded database",
            )

    # -- construction --------------------------------------------------------------
    @classmethod
    def embedded(
        cls,
        data_dir: str,
        *,
        graph: str = "tracegraph",
        appendfsync: str = "always",
        bolt_port: int | None = None,
        connect_timeout_s: float = 5.0,
        query_timeout_s: float = 60.0,
    ) -> FalkorDBStore:
        server = EmbeddedServer(data_dir, appendfsync=appendfsync, bolt_port=bolt_port)
        server.ensure_running()
        return cls(
            unix_socket_path=str(server.socket_path),
            graph=graph,
            connect_timeout_s=connect_timeout_s,
            query_timeout_s=query_timeout_s,
            server=server,
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> FalkorDBStore:
        u = urlparse(url)
        if not u.hostname:
            raise DatabaseUnavailable(f"no host in database URL {url!r}", hint="use falkordb://host:port")
        return cls(host=u.hostname, port=u.port or 6379, username=u.username, password=u.password, **kwargs)

    # -- errors --------------------------------------------------------------------
    def _unavailable(self, exc: Exception) -> DatabaseError:
        if isinstance(exc, redis.TimeoutError):
            return DatabaseTimeout(
                f"FalkorDB at {self.location} did not answer in time: {exc}",
                hint="the database may be overloaded or hung; see `tracegraph db status`",
            )
        return DatabaseUnavailable(
            f"could not reach FalkorDB at {self.location}: {exc}",
            hint="run `tracegraph db status`, or check TRACEGRAPH_DATABASE_URL",
        )

    def _translate(self, exc: Exception, cypher: str) -> Exception:
        if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
            return self._unavailable(exc)
        msg = str(exc)
        if "unique constraint violation" in msg.lower():
            return ConstraintViolation(f"a record with that key already exists: {msg}")
        if "timed out" in msg.lower() or "timeout" in msg.lower():
            return DatabaseTimeout(f"query timed out after {self.query_timeout_s:.0f} s: {msg}")
        first = cypher.strip().splitlines()[0][:80] if cypher.strip() else ""
        return DatabaseError(f"FalkorDB rejected the query ({first}...): {msg}")

    def pre_encode(self, value: Any) -> Any:
        """A parameter value written ahead as its literal (falkordb_params.pre_encode), for a
        writer that makes statements in one thread and sends them from another."""
        return pre_encode(value)

    # -- protocol ------------------------------------------------------------------
    def run(self, cypher: str, params: dict[str, Any] | None = None, *, write: bool = True) -> list[Row]:
        timeout_ms = int(self.query_timeout_s * 1000)
        # one walk writes the parameter header and refuses control characters (a NUL would truncate
        # the query text) and NaN/infinity (no literal for them), see falkordb_params.py
        text = params_header(params) + cypher
        if write:
            res = self._busy_retry(lambda: self._graph.query(text, None, timeout=timeout_ms), cypher)
        else:
            res = self._busy_retry(lambda: self._graph.ro_query(text, None, timeout=timeout_ms), cypher)
        header = [h[1] if isinstance(h, (list, tuple)) else h for h in (res.header or [])]
        header = [h.decode() if isinstance(h, bytes) else str(h) for h in header]
        return [dict(zip(header, (plain(v) for v in row))) for row in res.result_set]

    def _busy_retry(self, call: Callable[[], _T], cypher: str) -> _T:
        """`call()`, translated like every store error. FalkorDB refuses queries, before running
        them, while redis prepares the fork of an AOF rewrite or snapshot ("BUSY preparing to
        fork"; seen loading 10M units): wait for the fork and ask again, up to BUSY_RETRY_S."""
        deadline = time.monotonic() + BUSY_RETRY_S
        pause = 0.05
        while True:
            try:
                return call()
            except Exception as exc:  # redis / falkordb errors
                if _busy(exc) and time.monotonic() < deadline:
                    time.sleep(pause)
                    pause = min(pause * 2, 1.0)
                    continue
                raise self._translate(exc, cypher) from None

    def _ro_cmd(self, cypher: str, params: dict[str, Any] | None, compact: bool, timeout_s: float | None) -> list[Any]:
        text = params_header(params) + cypher
        cmd: list[Any] = ["GRAPH.RO_QUERY", self._graph.name, text]
        if compact:
            cmd.append("--compact")
        return cmd + ["timeout", int((timeout_s or self.query_timeout_s) * 1000)]

    def ro_command(self, cypher: str, params: dict[str, Any] | None = None, *, compact: bool = True,
                   timeout_s: float | None = None) -> Any:
        """One read returning FalkorDB's raw reply, for readers that decode it themselves
        (engine/impact.read_fast, the trace index): the same retry and error translation as
        `run`. `compact=False`: the verbose format (plain strings arrive as one value)."""
        cmd = self._ro_cmd(cypher, params, compact, timeout_s)
        return self._busy_retry(lambda: self._graph.execute_command(*cmd), cypher)

    def ro_commands(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Several reads in ONE round trip (a redis pipeline), raw compact replies in order. Reads
        only, so a pipeline with a BUSY refusal in it is simply sent again."""
        cmds = [self._ro_cmd(cypher, params, True, None) for cypher, params in calls]

        def send() -> list[Any]:
            pipe = self._db.connection.pipeline(transaction=False)
            for cmd in cmds:
                pipe.execute_command(*cmd)
            replies = pipe.execute(raise_on_error=False)
            busy = next((r for r in replies if isinstance(r, Exception) and _busy(r)), None)
            if busy is not None:
                raise busy
            return replies  # type: ignore[no-any-return]

        replies = self._busy_retry(send, calls[0][0])
        for (cypher, _), reply in zip(calls, replies):
            if isinstance(reply, Exception):
                raise self._translate(reply, cypher) from None
        return replies

    def read(self, query_name: str, /, **params: Any) -> list[Row]:
        return self.run(queries.load(query_name), params, write=False)

    def write(self, query_name: str, /, **params: Any) -> list[Row]:
        return self.run(queries.load(query_name), params, write=True)

    def apply_schema(self) -> None:
        """Create the missing exact-match indexes and uniqueness constraints, then the audit head.

        Only what is missing is sent: FalkorDB writes GRAPH.CONSTRAINT CREATE into the
        append-only file even when it fails with "Constraint already exists", so creating them
        unconditionally at every start filled each AOF replay with thousands of CRITICAL error
        lines (docs/falkordb.md). Existing ones are read with db.indexes() / db.constraints()."""
        have_idx = self._existing_indexes()
        for stmt in queries.statements("schema.falkordb"):
            key = _index_key(stmt)
            if key is not None and key in have_idx:
                continue
            try:
                self.run(stmt)
            except DatabaseError as exc:
                if "already indexed" not in str(exc).lower():
                    raise
        have_cons = {(r["label"], tuple(r["properties"]))
                     for r in self._schema_read("CALL db.constraints() YIELD type, label, properties, entitytype "
                                                "WHERE type = 'UNIQUE' AND entitytype = 'NODE' "
                                                "RETURN label, properties")}
        created = 0
        for label, prop in queries.unique_keys():
            if (label, (prop,)) in have_cons:
                continue
            created += 1
            try:
                self._db.connection.execute_command(
                    "GRAPH.CONSTRAINT", "CREATE", self.graph_name, "UNIQUE", "NODE", label, "PROPERTIES", 1, prop
                )
            except redis.ResponseError as exc:
                if "already exists" not in str(exc).lower():
                    raise self._translate(exc, "GRAPH.CONSTRAINT CREATE") from None
        self._wait_constraints()
        if created:
            # a new constraint is logged twice: the command, and again, up to a second later, once it
            # is OPERATIONAL. Replayed, the second fails. A rewrite puts the constraints in the AOF's
            # base snapshot, once both entries are in the log (else the late one lands after the rewrite)
            self._await_constraint_log(created)
            self.compact_log(wait=True)
        if not self.run("MATCH (h:AuditHead {id: 'main'}) RETURN h.seq AS seq", write=False):
            self.write("schema.init")

    def _await_constraint_log(self, created: int, timeout_s: float = 10.0) -> None:
        """Embedded only (the AOF is in our data folder): wait until the append-only file holds both
        entries of each constraint just created (2 x `created`; counted in the incremental files
        written since the last rewrite). Remote servers: a short pause instead."""
        aof_dir = self.server.data_dir / "appendonlydir" if self.server is not None else None
        deadline = time.monotonic() + timeout_s
        if aof_dir is None or not aof_dir.is_dir():
            time.sleep(1.0)
            return
        while time.monotonic() < deadline:
            n = sum(f.read_bytes().count(b"\r\nGRAPH.CONSTRAINT\r\n") for f in aof_dir.glob("*.incr.aof"))
            if n >= 2 * created:
                return
            time.sleep(0.05)

    def _schema_read(self, cypher: str) -> list[Row]:
        """A read of the schema; a graph that does not exist yet has none (not an error)."""
        try:
            return self.run(cypher, write=False)
        except DatabaseError as exc:
            if "empty key" in str(exc):
                return []
            raise

    def _existing_indexes(self) -> set[tuple[str, str]]:
        """(label, property) of every node index with an exact-match (range) part."""
        rows = self._schema_read("CALL db.indexes() YIELD label, properties, types, entitytype "
                                 "WHERE entitytype = 'NODE' RETURN label, properties, types")
        return {(r["label"], p) for r in rows for p in r["properties"] if "RANGE" in (r["types"] or {}).get(p, [])}

    def _wait_constraints(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            rows = self.run("CALL db.constraints() YIELD status RETURN status", write=False)
            if all(r["status"] == "OPERATIONAL" for r in rows):
                return
            if any(r["status"] == "FAILED" for r in rows):
                raise ConstraintViolation(
                    "a uniqueness constraint could not be created because duplicate keys already exist",
                    hint="find duplicates with `tracegraph db check`",
                )
            time.sleep(0.05)

    def server_facts(self) -> dict[str, Any]:
        """What the installation qualification records: server and module versions and the
        durability settings (CONFIG GET append*), the indexes and uniqueness constraints."""
        conn = self._db.connection
        try:
            info = conn.info("server")
            cfg = conn.config_get("append*")
            modules = [{"name": str(m.get("name", m.get(b"name", ""))), "ver": m.get("ver", m.get(b"ver"))}
                       for m in conn.module_list()]
        except redis.RedisError as exc:
            raise self._translate(exc, "INFO / CONFIG GET") from None
        indexes = self.run("CALL db.indexes() YIELD label, properties RETURN label, properties", write=False)
        constraints = self.run("CALL db.constraints() YIELD label, properties, status RETURN label, properties, status",
                               write=False)
        return {
            "backend": "falkordb", "location": self.location, "graph": self.graph_name,
            "redis_version": info.get("redis_version"), "modules": modules,
            "appendonly": cfg.get("appendonly"), "appendfsync": cfg.get("appendfsync"),
            "indexes": [{"label": r["label"], "properties": list(r["properties"])} for r in indexes],
            "constraints": [{"label": r["label"], "properties": list(r["properties"]), "status": r["status"]}
                            for r in constraints],
        }
    def compact_log(self, *, wait: bool = False, timeout_s: float = 600.0) -> bool:
        """Rewrite the append-only file into a compact snapshot (BGREWRITEAOF), after large
        imports and rollbacks and after schema changes, so a restart replays one snapshot instead
        of every statement ever run. In the background; `wait` blocks until it finished. False
        when the server refused (e.g. a remote FalkorDB that does not allow it)."""
        conn = self._db.connection
        try:
            conn.execute_command("BGREWRITEAOF")
        except redis.ResponseError as exc:
            if "already in progress" not in str(exc).lower():
                return False
        except redis.RedisError:
            return False
        if not wait:
            return True
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            info = conn.info("persistence")
            if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
                return bool(info.get("aof_last_bgrewrite_status") == "ok")
            time.sleep(0.05)
        raise DatabaseTimeout(f"the append-only file rewrite did not finish within {timeout_s:.0f} s")

    def ping(self) -> bool:
        try:
            return bool(self._db.connection.ping())
        except Exception:
            return False

    def drop_graph(self) -> None:
        """Delete the whole graph (tests, `tracegraph db reset`)."""
        try:
            self._graph.delete()
        except redis.ResponseError:
            pass

    def close(self) -> None:
        try:
            self._db.connection.close()
        except Exception:
            pass


_INDEX_RE = re.compile(r"CREATE\s+INDEX\s+FOR\s+\(\w+:(\w+)\)\s+ON\s+\(\w+\.(\w+)\)\s*$", re.IGNORECASE)


def _index_key(stmt: str) -> tuple[str, str] | None:
    """(label, property) of a one-property `CREATE INDEX FOR (n:L) ON (n.p)` statement, else None."""
    m = _INDEX_RE.match(stmt.strip())
    return (m.group(1), m.group(2)) if m else None

