"""Prometheus metrics for one app instance, and a store wrapper that times every query.

Each app gets its own CollectorRegistry (several apps live in one test process). With
several uvicorn workers every worker has its own counters: scrape each, or run one worker
behind the metrics endpoint (documented in docs/api.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from tracegraph.engine.stores.base import GraphStore, Row

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ApiMetrics:
    """Request counts and latency per route, database query latency, audit chain head."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "tracegraph_http_requests_total", "HTTP requests by route template and status",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "tracegraph_http_request_duration_seconds", "HTTP request latency by route template",
            ["method", "route"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.query_latency = Histogram(
            "tracegraph_db_query_duration_seconds", "Database query latency by named query",
            ["query", "kind"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.query_errors = Counter(
            "tracegraph_db_query_errors_total", "Database queries that raised", ["query", "kind"],
            registry=self.registry,
        )
        self.audit_head_seq = Gauge(
            "tracegraph_audit_head_seq", "Sequence number of the audit chain head (read at scrape)",
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class InstrumentedStore:
    """A GraphStore that records the latency of every named query; everything else passes through."""

    def __init__(self, inner: GraphStore, metrics: ApiMetrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self.backend = inner.backend
        self.location = inner.location

    @property
    def inner(self) -> GraphStore:
        return self._inner

    def _timed(self, kind: str, name: str, fn: Callable[..., list[Row]], /, *args: Any, **kwargs: Any) -> list[Row]:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        except Exception:
            self._metrics.query_errors.labels(name, kind).inc()
            raise
        finally:
            self._metrics.query_latency.labels(name, kind).observe(time.perf_counter() - t0)

    def read(self, query_name: str, /, **params: Any) -> list[Row]:
        return self._timed("read", query_name, self._inner.read, query_name, **params)

    def write(self, query_name: str, /, **params: Any) -> list[Row]:
        return self._timed("write", query_name, self._inner.write, query_name, **params)

    def run(self, cypher: str, params: dict[str, Any] | None = None, *, write: bool = True) -> list[Row]:
        return self._timed("write" if write else "read", "<literal>", self._inner.run, cypher, params, write=write)

    def apply_schema(self) -> None:
        self._inner.apply_schema()

    def ping(self) -> bool:
        return self._inner.ping()

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:  # drop_graph, graph_name, server, ...
        return getattr(self._inner, name)
