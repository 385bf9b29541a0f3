"""Map errors to HTTP answers that say what is wrong, never how the server is built.

`TracegraphError` subclasses carry their own `http_status` and `to_dict()`; anything else is a
bug: the client gets a generic 500 with the request id, the server log gets the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tracegraph.doors.error_language import localize, negotiate
from tracegraph.doors.errors import public_database_error
from tracegraph.engine.errors import (
    AuthenticationFailed,
    DatabaseError,
    TracegraphError,
)

log = logging.getLogger("tracegraph.api")


def _rid(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def error_body(code: str, message: str, request: Request, **extra: Any) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, **extra}
    return {"error": err, "request_id": _rid(request)}


def answer(request: Request, body: dict[str, Any], status: int,
           headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The error response in the caller's language (Accept-Language; `code` and `field` unchanged)."""
    lang = negotiate(request.headers.get("accept-language"))
    out = dict(headers or {})
    out["Vary"] = "Accept-Language"
    if isinstance(body.get("error"), dict):
        body = {**body, "error": localize(body["error"], lang)}
        if body["error"].get("lang"):
            out["Content-Language"] = lang
    return JSONResponse(body, status, headers=out)


async def tracegraph_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TracegraphError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationFailed) else None
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):  # too_many_attempts (engine/access/login_throttle.py)
        headers = {"Retry-After": str(retry_after)}
    if isinstance(exc, DatabaseError):
        log.warning("request %s: database error %s: %s", _rid(request), type(exc).__name__, exc)
        return answer(request, {"error": public_database_error(exc, _rid(request)), "request_id": _rid(request)},
                      exc.http_status, headers)
    if exc.http_status >= 500:
        log.warning("request %s failed: %s: %s", _rid(request), type(exc).__name__, exc)
    return answer(request, {"error": exc.to_dict(), "request_id": _rid(request)}, exc.http_status, headers)


async def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 (a parameter or body that does not fit its declared type) in the one
    error shape, the field named by its path (`query.as_of`, `body.decision.aware_at`)."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        value = e.get("input")
        problems.append({"source": "", "record": loc[0] if loc else "request", "field": ".".join(loc[1:]) or
                         (loc[0] if loc else "request"), "value": value if isinstance(value, (str, int, float, bool))
                         else None, "message": msg})
    first = problems[0] if problems else {"field": "request", "message": "invalid request"}
    body = error_body("validation_failed", f"invalid request: {first['field']}: {first['message']}", request,
                      hint="correct the named field and send the request again", field=first["field"],
                      problems=problems)
    return answer(request, body, 422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 401: "authentication_failed"}.get(
        exc.status_code, f"http_{exc.status_code}"
    )
    return answer(request, error_body(code, message, request), exc.status_code, exc.headers)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("request %s: unexpected %s", _rid(request), type(exc).__name__, exc_info=exc)
    return answer(
        request,
        error_body(
            "internal",
            "internal server error; nothing is reported about its cause here",
            request,
            hint=f"quote request id {_rid(request)} to the administrator (details are in the server log)",
        ),
        500,
    )


async def model_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """An engine input model built inside a route (not by FastAPI): the same 422 shape."""
    import pydantic

    from tracegraph.engine.inputs import invalid

    assert isinstance(exc, pydantic.ValidationError)
    return await tracegraph_error(request, invalid(exc, "input", record="request"))


def install(app: FastAPI) -> None:
    import pydantic

    app.add_exception_handler(TracegraphError, tracegraph_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(pydantic.ValidationError, model_validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
