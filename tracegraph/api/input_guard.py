"""One REST-wide check at the door: no control characters in any path, query or JSON body value.

Why here and not per route: a NUL or an escape byte is never meaningful in a key, a filter or a
name, and one forgotten route is enough to reach the database with it (`GET /audit/log?user=a%00b`
answered FalkorDB's parse error with the query text). Path and query values may hold no C0 or DEL
at all; JSON body strings may keep tab and line breaks (free text). GraphQL has its own error
shape and is checked by its input models and the store (tracegraph.engine.inputs, stores/param_guard).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.engine.inputs import control_char

#: JSON bodies larger than this are left to their route's models (imports stream files)
MAX_CHECKED_BODY = 2_000_000


def _refuse(field: str, value: str, text: bool) -> ValidationFailed:
    at = control_char(value, text=text)
    assert at is not None
    msg = f"{field} contains control character U+{ord(value[at]):04X} at position {at}"
    return ValidationFailed(msg, [Problem(record="request", field=field, message=msg, value=None)],
                            hint="send plain text: control characters" + (" other than tab and line breaks" if text
                                                                          else "") + " are refused")


def _walk(value: Any, where: str) -> None:
    if isinstance(value, str):
        if control_char(value, text=True) is not None:
            raise _refuse(where, value, True)
    elif isinstance(value, dict):
        for k, v in value.items():
            path = f"{where}.{k}"
            if isinstance(k, str) and control_char(k) is not None:
                raise _refuse(path, k, False)
            _walk(v, path)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, f"{where}.{i}")


async def refuse_control_input(request: Request) -> None:
    """FastAPI dependency on every REST route (not GraphQL: it answers in its own shape)."""
    if request.url.path.startswith("/graphql"):
        return
    for k, v in request.path_params.items():
        if isinstance(v, str) and control_char(v) is not None:
            raise _refuse(f"path.{k}", v, False)
    for k, v in request.query_params.multi_items():  # values as text: a scanned code carries GS (FNC1)
        if control_char(k) is not None or control_char(v, text=True) is not None:
            raise _refuse(f"query.{k}", v if control_char(v, text=True) is not None else k, control_char(k) is None)
    ctype = request.headers.get("content-type", "")
    if request.method in ("POST", "PUT", "PATCH") and "json" in ctype:
        length = int(request.headers.get("content-length") or 0)
        if length > MAX_CHECKED_BODY:
            return
        raw = await request.body()
        if not raw or len(raw) > MAX_CHECKED_BODY:
            return
        try:
            data = json.loads(raw)
        except ValueError:
            return  # the route's own model answers the malformed body
        _walk(data, "body")


__all__ = ["refuse_control_input"]
