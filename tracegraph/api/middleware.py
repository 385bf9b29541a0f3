"""Pure-ASGI middleware (no BaseHTTPMiddleware: it costs a task per request):

- `RequestContextMiddleware`: an `X-Request-ID` on every response (the client's, if it sent a
  sane one), one structured JSON log line per request, Prometheus counts/latency per route
  template, and security headers (CSP, nosniff, frame denial, referrer policy, HSTS on https).
- `BodySizeLimitMiddleware`: refuses bodies larger than `max_upload_mb` with 413, by
  Content-Length up front and by counting streamed chunks otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracegraph.api.metrics import ApiMetrics
from tracegraph.doors.error_language import localize, negotiate

log = logging.getLogger("tracegraph.api")

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

#: strict policy for the API and the dashboard (everything from our own origin)
CSP_STRICT = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
#: the interactive API docs (Swagger UI, ReDoc): bundles served from the package (docs_pages), an
#: inline bootstrap script and inline styles; no other origin
CSP_DOCS = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
#: GraphiQL (only when settings.graphiql is on, a development aid): strawberry's page loads its
#: bundles from a CDN
CSP_GRAPHIQL = (
    "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
_DOCS_PATHS = ("/docs", "/redoc", "/static-docs")


def localized(scope: Scope, error: dict[str, Any]) -> dict[str, Any]:
    """An error object answered from here (not by the exception handlers) in the caller's language."""
    header = next((v.decode("latin-1") for k, v in scope.get("headers") or [] if k == b"accept-language"), None)
    return localize(error, negotiate(header))


def request_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", "")) if isinstance(scope.get("state"), dict) else ""


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics, *, graphiql: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for k, v in scope.get("headers", []):
            if k == b"x-request-id":
                cand = v.decode("latin-1")
                if _SANE_ID.match(cand):
                    rid = cand
                break
        rid = rid or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        path: str = scope.get("path", "")
        https = scope.get("scheme") == "https"
        csp = (CSP_DOCS if path.startswith(_DOCS_PATHS) else
               CSP_GRAPHIQL if self.graphiql and path.startswith("/graphql") else CSP_STRICT)
        status_holder = [500]
        t0 = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra: list[tuple[bytes, bytes]] = [
                    (b"x-request-id", rid.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-security-policy", csp.encode()),
                ]
                if https:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        started = [False]

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
            await send_wrapper(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:  # a bug below us: answer 500 with our headers, log the trace
            log.error("request %s: unexpected %s", rid, type(exc).__name__, exc_info=exc)
            if started[0]:
                raise
            body = json.dumps(
                {
                    "error": localized(scope, {
                        "code": "internal",
                        "message": "internal server error; nothing is reported about its cause here",
                        "hint": f"quote request id {rid} to the administrator (details are in the server log)",
                    }),
                    "request_id": rid,
                }
            ).encode()
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send_wrapper({"type": "http.response.body", "body": body})
        finally:
            dt = time.perf_counter() - t0
            route = scope.get("route")
            template = getattr(route, "path", None) or ("<unmatched>" if status_holder[0] == 404 else path)
            method = scope.get("method", "")
            self.metrics.observe_request(method, template, status_holder[0], dt)
            if log.isEnabledFor(logging.INFO):
                state: dict[str, Any] = scope.get("state", {})
                log.info(
                    json.dumps(
                        {
                            "event": "request",
                            "request_id": rid,
                            "method": method,
                            "path": path,
                            "route": template,
                            "status": status_holder[0],
                            "duration_ms": round(dt * 1000, 3),
                            "actor": state.get("actor_id"),
                            "client": (scope.get("client") or ("", 0))[0],
                        },
                        separators=(",", ":"),
                    )
                )


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit; an HTTPException so the
    framework's body parser re-raises it instead of calling it a parse error (-> 413)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            413, f"the request body is larger than the limit of {max_bytes / 1_048_576:g} MB; "
            "split the upload, or raise TRACEGRAPH_MAX_UPLOAD_MB",
        )


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    too_big = int(v) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(scope, send)
                    return
                break
        seen = 0
        started = [False]

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started[0] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started[0]:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        mb = self.max_bytes / 1_048_576
        body = json.dumps(
            {
                "error": localized(scope, {
                    "code": "payload_too_large",
                    "message": f"the request body is larger than the limit of {mb:g} MB",
                    "hint": "split the upload, or raise TRACEGRAPH_MAX_UPLOAD_MB",
                }),
                "request_id": request_id_of(scope),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
