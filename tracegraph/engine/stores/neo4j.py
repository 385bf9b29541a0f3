"""Neo4jStore: Neo4j 5 (and anything else that speaks Bolt) through the official driver.

Units of work run as managed transactions (`execute_read` / `execute_write`), which the
driver retries on transient failures; every business write is a single statement (see
engine/audit/chain.py), so a retry never half-applies a change.

FalkorDB also speaks Bolt (module argument `BOLT_PORT`). The tests use that endpoint to prove
the driver path without a Neo4j server, so this store detects FalkorDB (it fails
`dbms.components()`, which every Neo4j answers) and adapts to what was measured on FalkorDB
4.16 (see docs/neo4j.md):

* database selection is ignored: everything lands in one graph, so no database is named;
* constraints cannot be created over Bolt (`GRAPH.CONSTRAINT` is a RESP command): only the
  FalkorDB indexes are applied, uniqueness is NOT enforced on that path;
* every error comes back as `Neo.DatabaseError.General.UnknownError` without a reason;
* parameters are spliced into the query text by the server: a string with a single quote or
  a backslash is rejected or silently altered, floats are rounded to 6 decimals (1e-9 becomes
  0.0), NaN and bytes are rejected, and a few kilobytes of parameters crash the server. This store refuses such parameters up front
  rather than corrupt data or kill the server (use falkordb:// for FalkorDB instead);
* rollback is a no-op (a failed transaction keeps what it already wrote).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse, urlunparse

import neo4j
from neo4j import exceptions as nx

from tracegraph import queries
from tracegraph.engine.errors import (
    ConfigurationError,
    ConstraintViolation,
    DatabaseError,
    DatabaseTimeout,
    DatabaseUnavailable,
)
from tracegraph.engine.stores.base import Row, plain
from tracegraph.engine.stores.param_guard import refuse_control_chars

#: FalkorDB's Bolt endpoint copies parameters into a fixed-size buffer; measured: 4,000 characters
#: of one string parameter worked, 8,000 killed the server. Stay well below.
FALKORDB_BOLT_MAX_PARAM_CHARS = 3000


class Neo4jStore:
    """A Neo4j database (or FalkorDB's Bolt endpoint) reached with the official neo4j driver."""

    backend = "neo4j"

    def __init__(
        self,
        url: str,
        *,
        user: str = "neo4j",
        password: str = "",
        database: str | None = None,
        connect_timeout_s: float = 5.0,
        query_timeout_s: float = 60.0,
        max_connection_pool_size: int = 50,
        max_retry_time_s: float | None = None,
    ) -> None:
        self.url = _without_credentials(url)
        self.location = self.url
        self.connect_timeout_s = connect_timeout_s
        self.query_timeout_s = query_timeout_s
        self.database = database or None
        #: True when the server turned out to be FalkorDB's Bolt endpoint
        self.is_falkordb = False
        u = urlparse(url)
        if u.username and not password:  # credentials in the URL win over the defaults
            user, password = u.username, u.password or ""
        try:
            self._driver = neo4j.GraphDatabase.driver(
                self.url,
                auth=(user, password),
                connection_timeout=connect_timeout_s,
                connection_acquisition_timeout=connect_timeout_s * 2,
                max_connection_pool_size=max_connection_pool_size,
                max_transaction_retry_time=(
                    max_retry_time_s if max_retry_time_s is not None else max(connect_timeout_s * 2, 5.0)
                ),
                keep_alive=True,
            )
        except (nx.ConfigurationError, ValueError) as exc:
            raise ConfigurationError(
                f"invalid Neo4j URL {self.url!r}: {exc}",
                hint="use neo4j://host:7687, neo4j+s://host, or bolt://host:7687",
            ) from None
        try:
            self._detect_server()
        except Exception:
            self.close()
            raise

    # -- construction ----------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> Neo4jStore:
        """Build from `tracegraph.settings.Settings` (used by `stores.open_store`).

        The database is `settings.graph`; the values "" and "default" mean the server's
        default database (Neo4j Community has only `neo4j`).
        """
        graph = str(getattr(settings, "graph", "") or "")
        kwargs: dict[str, Any] = dict(
            user=settings.database_user,
            password=settings.database_password.get_secret_value(),
            database=None if graph in ("", "default") else graph,
            connect_timeout_s=settings.connect_timeout_s,
            query_timeout_s=settings.query_timeout_s,
        )
        kwargs.update(overrides)
        return cls(settings.database_url, **kwargs)

    def _detect_server(self) -> None:
        """Connect once (so a wrong URL or password fails here) and find out what answers."""
        try:
            rows = self._run("CALL dbms.components() YIELD name RETURN name", None, write=False, raw_errors=True)
            self.server_name = ", ".join(str(r["name"]) for r in rows) or "Neo4j"
        except nx.DatabaseError as exc:
            if "UnknownError" not in (exc.code or ""):
                raise self._translate(exc, "CALL dbms.components()") from None
            # Neo4j always knows dbms.components(); FalkorDB answers with a reasonless error.
            self.is_falkordb = True
            self.database = None
            self.server_name = "FalkorDB (Bolt)"
            self.location = f"{self.url} (FalkorDB over Bolt)"
        except Exception as exc:
            raise self._translate(exc, "CALL dbms.components()") from None

    # -- errors ----------------------------------------------------------------------
    def _translate(self, exc: Exception, cypher: str) -> Exception:
        if isinstance(exc, ConfigurationError | DatabaseError):
            return exc
        first = cypher.strip().splitlines()[0][:80] if cypher.strip() else ""
        msg = " ".join(str(getattr(exc, "message", None) or exc).split())
        code = str(getattr(exc, "code", "") or "")
        if isinstance(exc, nx.AuthError):
            return DatabaseUnavailable(
                f"Neo4j at {self.url} refused the credentials: {msg}",
                hint="check TRACEGRAPH_DATABASE_USER and TRACEGRAPH_DATABASE_PASSWORD",
            )
        if isinstance(exc, nx.ConnectionAcquisitionTimeoutError):
            return DatabaseTimeout(
                f"no connection to {self.url} became free within {self.connect_timeout_s * 2:.0f} s",
                hint="the database or the connection pool is overloaded; retry, or raise the pool size",
            )
        if isinstance(exc, (nx.ServiceUnavailable, nx.SessionExpired, OSError)):
            return DatabaseUnavailable(
                f"could not reach Neo4j at {self.url}: {msg}",
                hint="check TRACEGRAPH_DATABASE_URL and that the server is running (`docker compose ps`)",
            )
        if isinstance(exc, nx.ConstraintError) or "ConstraintValidationFailed" in code:
            return ConstraintViolation(f"a record with that key already exists ({self.url}): {msg}")
        if "DatabaseNotFound" in code:
            return ConfigurationError(
                f"Neo4j at {self.url} has no database {self.database!r}: {msg}",
                hint="set TRACEGRAPH_GRAPH=neo4j (Neo4j Community has only the 'neo4j' database) "
                "or TRACEGRAPH_GRAPH=default for the server's default",
            )
        if "TransactionTimedOut" in code or "timed out" in msg.lower():
            return DatabaseTimeout(
                f"query on {self.url} timed out after {self.query_timeout_s:.0f} s ({first}...): {msg}",
                hint="narrow the query (depth, time window) or raise TRACEGRAPH_QUERY_TIMEOUT_S",
            )
        if self.is_falkordb and "UnknownError" in code:
            return DatabaseError(
                f"FalkorDB over Bolt at {self.url} rejected the query ({first}...) without giving a reason",
                hint="run the same query over falkordb:// (RESP) to see FalkorDB's error message",
            )
        return DatabaseError(f"Neo4j at {self.url} rejected the query ({first}...): {msg}")

    def _check_falkordb_params(self, params: dict[str, Any]) -> None:
        """Refuse what FalkorDB's Bolt endpoint would mangle or crash on (see module docstring)."""
        total = 0

        def walk(v: Any, where: str) -> None:
            nonlocal total
            if isinstance(v, str):
                total += len(v)
                if "'" in v or "\\" in v:
                    raise DatabaseError(
                        f"FalkorDB over Bolt at {self.url} cannot carry the text in parameter {where} "
                        "(single quotes and backslashes are spliced into the query unescaped)",
                        hint="connect to FalkorDB with falkordb://host:port instead of Bolt",
                    )
            elif isinstance(v, (bytes, bytearray)) or (
                isinstance(v, float) and (not math.isfinite(v) or float(f"{v:.6f}") != v)
            ):
                raise DatabaseError(
                    f"FalkorDB over Bolt at {self.url} cannot carry the value of parameter {where} "
                    "(bytes, NaN/infinity, and floats with more than 6 decimals are refused or rounded)",
                    hint="connect to FalkorDB with falkordb://host:port instead of Bolt",
                )
            elif isinstance(v, dict):
                for k, x in v.items():
                    walk(x, f"{where}.{k}")
            elif isinstance(v, (list, tuple)):
                for i, x in enumerate(v):
                    walk(x, f"{where}[{i}]")

        for name, value in params.items():
            walk(value, f"${name}")
        if total > FALKORDB_BOLT_MAX_PARAM_CHARS:
            raise DatabaseError(
                f"FalkorDB over Bolt at {self.url} cannot take {total} characters of parameters "
                f"(its Bolt endpoint crashes on a few kilobytes; limit {FALKORDB_BOLT_MAX_PARAM_CHARS})",
                hint="connect to FalkorDB with falkordb://host:port instead of Bolt",
            )

    # -- protocol --------------------------------------------------------------------
    def _run(
        self, cypher: str, params: dict[str, Any] | None, *, write: bool, raw_errors: bool = False
    ) -> list[Row]:
        params = dict(params or {})
        refuse_control_chars(params)
        if self.is_falkordb:
            self._check_falkordb_params(params)

        def work(tx: neo4j.ManagedTransaction) -> list[Row]:
            result = tx.run(cypher, params)
            return [{k: plain(v) for k, v in record.items()} for record in result]  # type: ignore[no-untyped-call]  # neo4j 6 leaves Record.items unannotated

        unit: Callable[[neo4j.ManagedTransaction], list[Row]] = (
            work if self.is_falkordb else neo4j.unit_of_work(timeout=self.query_timeout_s)(work)
        )
        try:
            with self._driver.session(database=self.database) as session:
                if write:
                    return session.execute_write(unit)
                return session.execute_read(unit)
        except Exception as exc:
            if raw_errors:
                raise
            raise self._translate(exc, cypher) from None

    def run(self, cypher: str, params: dict[str, Any] | None = None, *, write: bool = True) -> list[Row]:
        return self._run(cypher, params, write=write)

    def read(self, query_name: str, /, **params: Any) -> list[Row]:
        return self._run(queries.load(query_name), params, write=False)

    def write(self, query_name: str, /, **params: Any) -> list[Row]:
        return self._run(queries.load(query_name), params, write=True)

    def apply_schema(self) -> None:
        """Neo4j: the constraints and indexes of schema/neo4j.cypher (all `IF NOT EXISTS`).

        FalkorDB over Bolt: the indexes of schema/falkordb.cypher that do not exist yet;
        its uniqueness constraints need the RESP-only GRAPH.CONSTRAINT command and are skipped.
        """
        if self.is_falkordb:
            existing = {
                (str(r["label"]), str(p))
                for r in self.run("CALL db.indexes() YIELD label, properties RETURN label, properties", write=False)
                for p in (r["properties"] or [])
            }
            for stmt in queries.statements("schema.falkordb"):
                key = _index_key(stmt)
                if key is not None and key in existing:
                    continue
                self.run(stmt)
        else:
            for stmt in queries.statements("schema.neo4j"):
                self.run(stmt)
        self.write("schema.init")

    @property
    def enforces_uniqueness(self) -> bool:
        """False on FalkorDB over Bolt, where constraints cannot be created (see apply_schema)."""
        return not self.is_falkordb

    def drop_graph(self, batch: int = 10_000) -> None:
        """Delete every node and relationship (tests, `tracegraph db reset`), in batches so a big
        Neo4j database does not need one huge transaction. Schema objects stay."""
        while True:
            rows = self.run(
                "MATCH (n) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS deleted", {"batch": batch}
            )
            if not rows or int(rows[0]["deleted"]) == 0:
                return

    def ping(self) -> bool:
        try:
            return self.run("RETURN 1 AS ok", write=False) == [{"ok": 1}]
        except Exception:
            return False

    def close(self) -> None:
        try:
            self._driver.close()
        except Exception:
            pass


def _without_credentials(url: str) -> str:
    u = urlparse(url.strip())
    if not u.hostname:
        raise ConfigurationError(f"no host in database URL {url!r}", hint="use neo4j://host:7687")
    netloc = u.hostname + (f":{u.port}" if u.port else "")
    return urlunparse((u.scheme, netloc, u.path, "", u.query, ""))


def _index_key(stmt: str) -> tuple[str, str] | None:
    """('Label', 'prop') of `CREATE INDEX FOR (n:Label) ON (n.prop)`, else None."""
    import re

    m = re.search(r"FOR\s*\(\s*\w+\s*:\s*(\w+)\s*\)\s*ON\s*\(\s*\w+\.(\w+)\s*\)", stmt, re.IGNORECASE)
    return (m.group(1), m.group(2)) if m else None


__all__ = ["Neo4jStore", "FALKORDB_BOLT_MAX_PARAM_CHARS"]
