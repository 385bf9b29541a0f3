"""The strawberry schema: root types merged from one module per area, with limits.

Areas whose engine part is not installed are left out (their module fails to import with
ModuleNotFoundError on a tracegraph.engine module). `schema.graphql` next to this file is the
exported SDL (`tracegraph graphql-schema`); a test fails when it is stale.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from tracegraph.graphql.errors import ShapeErrors
from tracegraph.graphql.input_guard import RefuseControlChars

SDL_PATH = Path(__file__).resolve().parent / "schema.graphql"

#: (module, query class, mutation class or None)
AREAS: tuple[tuple[str, str | None, str | None], ...] = (
    ("tracegraph.graphql.types_browse", "BrowseQuery", None),
    ("tracegraph.graphql.types_browse", "DashboardQuery", None),
    ("tracegraph.graphql.types_trace", "TraceQuery", None),
    ("tracegraph.graphql.types_audit", "AuditQuery", "AuditMutation"),
    ("tracegraph.graphql.types_users", "UsersQuery", "UsersMutation"),
    ("tracegraph.graphql.types_records", "RecordsQuery", "RecordsMutation"),
    ("tracegraph.graphql.types_recall", "RecallQuery", "RecallMutation"),
    ("tracegraph.graphql.types_qms", "QmsQuery", "QmsMutation"),
    ("tracegraph.graphql.types_quality", "QualityQuery", None),
)

DEFAULT_LIMITS = {"depth": 12, "aliases": 30, "tokens": 2000}


def _areas() -> tuple[list[type], list[type], list[type]]:
    """Root query and mutation classes of the installed areas, and the types an area registers
    that no field names directly (`SCHEMA_TYPES`: e.g. the implementations of an interface)."""
    queries: list[type] = []
    mutations: list[type] = []
    extra: list[type] = []
    for mod_name, q, m in AREAS:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            name = exc.name or ""
            if name == mod_name or name.startswith(("tracegraph.engine.", "tracegraph.loaders.")):
                continue
            raise
        if q:
            queries.append(getattr(mod, q))
        if m:
            mutations.append(getattr(mod, m))
        extra += [t for t in getattr(mod, "SCHEMA_TYPES", ()) if t not in extra]
    return queries, mutations, extra


class TracegraphSchema(strawberry.Schema):
    """Logs only unexpected errors: refusals and invalid input are the client's business."""

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        from tracegraph.engine.errors import TracegraphError

        unexpected = [
            e for e in errors
            if e.original_error is not None and not isinstance(e.original_error, TracegraphError)
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(*, max_depth: int | None = None, max_aliases: int | None = None,
                 max_tokens: int | None = None) -> strawberry.Schema:
    queries, mutations, extra = _areas()
    query = merge_types("Query", tuple(queries))
    mutation = merge_types("Mutation", tuple(mutations)) if mutations else None
    extensions: list[Any] = [
        QueryDepthLimiter(max_depth=max_depth or DEFAULT_LIMITS["depth"]),
        MaxAliasesLimiter(max_alias_count=max_aliases or DEFAULT_LIMITS["aliases"]),
        MaxTokensLimiter(max_token_count=max_tokens or DEFAULT_LIMITS["tokens"]),
        ParserCache(maxsize=512),
        ValidationCache(maxsize=512),
        RefuseControlChars(),
        ShapeErrors(),
    ]
    return TracegraphSchema(query=query, mutation=mutation, extensions=extensions, types=extra)


def sdl() -> str:
    """The schema's SDL as exported to schema.graphql."""
    return build_schema().as_str().rstrip() + "\n"


def write_sdl(path: Path = SDL_PATH) -> Path:
    path.write_text(sdl(), encoding="utf-8")
    return path
