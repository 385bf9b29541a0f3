"""The FastAPI application: `create_app(settings, store=None)`.

One store per app: given (tests, embedding), or opened once in the lifespan and closed on
shutdown. Middleware order (outermost first): request context (request id, logs, metrics,
security headers), CORS (only when origins are configured), body size limit, read cache
(api/read_cache.py: repeated reads answered by audit head and roles).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from tracegraph import __version__
from tracegraph.api import docs_pages, errors
from tracegraph.api.deps import PUBLIC, TokenCache
from tracegraph.api.input_guard import refuse_control_input
from tracegraph.api.metrics import ApiMetrics, InstrumentedStore
from tracegraph.api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from tracegraph.api.read_cache import ReadCacheMiddleware
from tracegraph.doors.read_cache import ReadCache
from tracegraph.engine.stores.base import GraphStore
from tracegraph.settings import Settings, load_settings

log = logging.getLogger("tracegraph.api")
STATIC_DIR = Path(__file__).resolve().parent / "static"

#: route modules, each wrapping one engine area; a module whose engine part has not been
#: installed yet (ModuleNotFoundError on a tracegraph.engine/loaders module) is left out
ROUTE_MODULES = (
    "routes_auth",
    "routes_trace",
    "routes_imports",
    "routes_epcis",
    "routes_audit",
    "routes_export",
    "routes_recall",
    "routes_qms",
)

DESCRIPTION = """\
tracegraph: traceability and recall for regulated manufacturers.

Authenticate with `POST /auth/login`, then send `Authorization: Bearer <token>`. Every route
except `/health`, `/auth/login` and `/metrics` needs a token; the role's permissions decide
the rest. The dashboard API is GraphQL at `/graphql` (SDL: `tracegraph graphql-schema`).
"""


def _include_routes(app: FastAPI) -> list[str]:
    included = []
    for name in ROUTE_MODULES:
        try:
            mod = importlib.import_module(f"tracegraph.api.{name}")
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing == f"tracegraph.api.{name}" or missing.startswith(("tracegraph.engine.", "tracegraph.loaders.")):
                log.info("API routes %s left out: %s is not available", name, missing)
                continue
            raise
        app.include_router(mod.router)
        included.append(name)
    return included


def _include_graphql(app: FastAPI, settings: Settings) -> bool:
    try:
        from tracegraph.graphql.app import graphql_router
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith(("tracegraph.engine.", "tracegraph.graphql.")):
            log.info("GraphQL left out: %s is not available", exc.name)
            return False
        raise
    app.include_router(graphql_router(settings), prefix="/graphql", include_in_schema=False)
    return True


def _keep_trace_index(store: Any, settings: Settings) -> None:
    """A server keeps the trace index (engine/trace/index.py): built in the background, the
    graph answering until then and whenever the index is behind the audit head."""
    if settings.trace_index != "off":
        from tracegraph.engine.trace import index as trace_index

        trace_index.enable(store, "background")


def _freeze_heap_when_ready(store: Any, settings: Settings) -> None:
    """Once the start-up objects exist (the store, the schema, the trace index: its build runs in
    the background), collect once and move everything alive to the collector's permanent
    generation (gc.freeze). Why: a full collection walked those ~180k long-lived objects
    (a 30-150 ms pause on this 2-core machine), stalling every request of the worker: the p99 of
    the API benchmark. Frozen objects are still freed by reference counting; only cycles among
    them would wait (they are the server's own long-lived state). Runs in a daemon thread."""
    import gc
    import threading

    def run() -> None:
        if settings.trace_index != "off":
            from tracegraph.engine.trace import index as trace_index

            trace_index.enable(store, "background", wait=True, timeout_s=600)
        gc.collect()
        gc.freeze()
        log.info('{"event":"heap_frozen","objects":%d}', gc.get_freeze_count())

    threading.Thread(target=run, name="tracegraph-gc-freeze", daemon=True).start()


def create_app(settings: Settings | None = None, store: GraphStore | None = None, clock: Any = None) -> FastAPI:
    """Build the app. With `store`, the caller owns it (it is not closed on shutdown). `clock`
    (engine/clock.py; default the system clock) times the login throttle: tests move it."""
    settings = settings or load_settings()
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened: GraphStore | None = None
        if getattr(app.state, "store", None) is None:
            from starlette.concurrency import run_in_threadpool

            from tracegraph.engine.stores import open_store

            opened = await run_in_threadpool(open_store, settings)
            app.state.store = InstrumentedStore(opened, metrics)
            log.info('{"event":"store_opened","backend":"%s","location":"%s"}', opened.backend, opened.location)
            _keep_trace_index(app.state.store, settings)
            _freeze_heap_when_ready(app.state.store, settings)
        deliverer = None
        if settings.epcis_deliverer_s > 0 and app.state.store is not None:
            from tracegraph.loaders.epcis_subscriptions import Deliverer

            deliverer = Deliverer(app.state.store, interval_s=settings.epcis_deliverer_s)
            deliverer.start()
        try:
            yield
        finally:
            if deliverer is not None:
                deliverer.stop()
            if opened is not None:
                opened.close()
                app.state.store = None
                log.info('{"event":"store_closed"}')

    app = FastAPI(
        title="tracegraph",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the package by docs_pages (no CDN)
        redoc_url=None,
        dependencies=[Depends(refuse_control_input)],
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.token_cache = TokenCache(settings.token_cache_s)
    app.state.read_cache = ReadCache(settings.read_cache_entries)
    app.state.clock = clock
    app.state.store = InstrumentedStore(store, metrics) if store is not None else None
    if app.state.store is not None:
        _keep_trace_index(app.state.store, settings)

    errors.install(app)
    docs_pages.install(app, title="tracegraph")
    from tracegraph.api import routes_health

    app.include_router(routes_health.router)
    # GraphQL before the REST modules: routes are matched in order, and /graphql (the dashboards'
    # endpoint, one path no REST route shares) was found after ~80 route checks, ~1/4 of a small query
    app.state.graphql = _include_graphql(app, settings)
    app.state.route_modules = _include_routes(app)

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

        @app.get("/", include_in_schema=False, dependencies=[PUBLIC])
        async def dashboard() -> FileResponse:
            """The static dashboard page (it asks for a login and talks to /graphql)."""
            return FileResponse(STATIC_DIR / "index.html")

    # added innermost first
    app.add_middleware(ReadCacheMiddleware, cache=app.state.read_cache)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=int(settings.max_upload_mb * 1_048_576))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
            allow_credentials=False,
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics, graphiql=settings.graphiql)
    return app


__all__ = ["create_app"]
