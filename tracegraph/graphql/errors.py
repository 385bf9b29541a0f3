"""GraphQL errors that say what is wrong without leaking internals.

Engine errors keep their message and get `extensions: {code, hint, problems}` (message and hint in
the language of `Accept-Language`, doors/error_language.py); query
validation errors (syntax, unknown field, depth/alias/token limits) pass through; anything
else is masked to a generic message carrying the request id (the server log has the trace).
"""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from tracegraph.doors.error_language import DEFAULT, localize, negotiate
from tracegraph.doors.errors import public_database_error
from tracegraph.engine.errors import DatabaseError, TracegraphError

log = logging.getLogger("tracegraph.api")


class ShapeErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: True, error_message="internal error")

    def _process_result(self, result: object) -> None:
        # the base class asks isinstance(result, <a runtime Protocol>) first: ~30 us on every
        # operation, errors or not; an attribute read answers the same question
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _request_id(self) -> str:
        ctx = getattr(self.execution_context, "context", None)
        return str(getattr(ctx, "request_id", "") or "")

    def _language(self) -> str:
        ctx = getattr(self.execution_context, "context", None)
        request = getattr(ctx, "request", None)
        headers = getattr(request, "headers", None)
        return negotiate(headers.get("accept-language") if headers is not None else None)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        shaped = self._shape(errors)
        lang = self._language()
        if lang == DEFAULT:
            return shaped
        out: list[GraphQLError] = []
        for err in shaped:  # message and hint in the caller's language; code, field, problems' fields unchanged
            ext = dict(err.extensions or {})
            if not ext.get("code"):
                out.append(err)  # syntax / validation of the document: GraphQL's own English
                continue
            loc = localize({**ext, "message": err.message}, lang)
            msg = loc.pop("message")
            out.append(self._copy(err, msg, loc))
        return out

    def _shape(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out: list[GraphQLError] = []
        for err in errors:
            orig = err.original_error
            # strawberry wraps some errors; unwrap one level
            inner = getattr(orig, "original_error", None)
            if inner is not None and not isinstance(orig, TracegraphError):
                orig = inner
            if orig is None or isinstance(orig, GraphQLError) and orig.original_error is None:
                out.append(err)  # syntax / validation / limits: already a client message
                continue
            if isinstance(orig, DatabaseError):
                rid = self._request_id()
                log.warning("graphql %s: database error %s: %s", rid, type(orig).__name__, orig)
                public = public_database_error(orig, rid)
                msg = public.pop("message")
                out.append(self._copy(err, msg, {**public, "request_id": rid}))
                continue
            if isinstance(orig, TracegraphError):
                ext: dict[str, Any] = dict(orig.to_dict())
                msg = ext.pop("message")
                out.append(self._copy(err, msg, ext))
                continue
            if isinstance(orig, pydantic.ValidationError):
                from tracegraph.engine.inputs import invalid

                ve = invalid(orig, "input")
                ext = dict(ve.to_dict())
                msg = ext.pop("message")
                out.append(self._copy(err, msg, ext))
                continue
            rid = self._request_id()
            log.error("graphql %s: unexpected %s at %s", rid, type(orig).__name__, err.path, exc_info=orig)
            out.append(
                self._copy(
                    err,
                    "internal error; nothing is reported about its cause here",
                    {"code": "internal", "request_id": rid},
                )
            )
        return out

    @staticmethod
    def _copy(err: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
        return GraphQLError(
            message=message, nodes=err.nodes, source=err.source, positions=err.positions, path=err.path,
            original_error=None, extensions=extensions,
        )
