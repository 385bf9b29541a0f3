"""`GET /health` (no authentication: load balancers and `tracegraph serve` checks) and
`GET /metrics` (Prometheus; a bearer token from settings, or loopback clients only)."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from tracegraph import __version__
from tracegraph.api.deps import PUBLIC, get_store
from tracegraph.engine.errors import AuthenticationFailed, PermissionDenied

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str  # "ok" | "unavailable"
    version: str
    backend: str
    database_reachable: bool
    audit_head_seq: int | None = None
    trace_index: dict[str, Any] | None = None  # engine/trace_index.IndexStatus: built, fresh, size


def _health(request: Request) -> Health:
    from tracegraph.engine.audit.chain import head
    from tracegraph.engine.trace import index as trace_index

    store = get_store(request)
    reachable = False
    seq: int | None = None
    index: dict[str, Any] | None = None
    try:
        reachable = store.ping()
        if reachable:
            seq = int(head(store)["seq"])
            index = trace_index.status(store, head=seq).to_dict()
    except Exception:  # health must answer, whatever the database does
        reachable = False
    return Health(
        status="ok" if reachable else "unavailable",
        version=__version__,
        backend=request.app.state.settings.backend,
        database_reachable=reachable,
        audit_head_seq=seq,
        trace_index=index,
    )


@router.get(
    "/health",
    response_model=Health,
    dependencies=[PUBLIC],
    responses={503: {"model": Health, "description": "the database does not answer"}},
)
async def health(request: Request) -> JSONResponse:
    """Is the service up and its database reachable? No authentication."""
    h = await run_in_threadpool(_health, request)
    return JSONResponse(h.model_dump(), status_code=200 if h.database_reachable else 503)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_metrics_access(request: Request) -> None:
    """A configured metrics token is required from everyone; without one, loopback only."""
    token = request.app.state.settings.metrics_token.get_secret_value()
    if token:
        sent = request.headers.get("authorization", "")
        if not sent.lower().startswith("bearer ") or not hmac.compare_digest(sent[7:].strip(), token):
            raise AuthenticationFailed(
                "GET /metrics needs the metrics token", hint="send Authorization: Bearer <TRACEGRAPH_METRICS_TOKEN>"
            )
        return
    client = request.client.host if request.client else None
    if not _is_loopback(client):
        raise PermissionDenied(
            "GET /metrics answers loopback clients only while no metrics token is set",
            hint="set TRACEGRAPH_METRICS_TOKEN to scrape from another host",
        )


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[PUBLIC],
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics. Protected by TRACEGRAPH_METRICS_TOKEN, or loopback-only without one."""
    check_metrics_access(request)
    m = request.app.state.metrics

    def _seq() -> None:
        from tracegraph.engine.audit.chain import head

        try:
            m.audit_head_seq.set(int(head(get_store(request))["seq"]))
        except Exception:
            pass

    await run_in_threadpool(_seq)
    return Response(m.render(), media_type=m.content_type)
