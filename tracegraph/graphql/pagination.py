"""Relay-style connections (edges, cursors, pageInfo, totalCount) over offset cursors.

Cursors are opaque (`base64("o:<offset>")`): pages stay correct for any sort order and filter,
at the price of shifting if records are inserted while a client pages; lists are sorted by the
requested field and then by id, so a page is stable while the data is.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from tracegraph.engine.browse import MAX_PAGE
from tracegraph.engine.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_PAGE = 50


@strawberry.type(description="Where this page sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list: `first` items after the `after` cursor.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _total: strawberry.Private[Callable[[], Awaitable[int]] | int]

    @strawberry.field(description="How many items the whole filtered list has.")
    async def total_count(self) -> int:
        if isinstance(self._total, int):
            return self._total
        return await self._total()


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """Offset of the item AFTER `cursor` (0 without one)."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        kind, _, num = raw.partition(":")
        if kind != "o":
            raise ValueError(raw)
        return int(num) + 1
    except Exception:
        raise ValidationFailed(
            f"invalid cursor {cursor!r}", hint="pass a cursor from edges.cursor or pageInfo.endCursor unchanged"
        ) from None


def window(first: int | None, after: str | None) -> tuple[int, int]:
    """(skip, limit) for a page request; limit is checked against MAX_PAGE."""
    n = DEFAULT_PAGE if first is None else first
    if n < 0 or n > MAX_PAGE:
        raise ValidationFailed(f"first must be between 0 and {MAX_PAGE}, not {n}", hint="page with `after`")
    return decode_cursor(after), n


def connection(
    items: list[Any], skip: int, limit: int, total: Callable[[], Awaitable[int]] | int
) -> Connection[Any]:
    """Build a connection from up to limit+1 fetched items (the extra one says hasNextPage)."""
    has_next = len(items) > limit
    items = items[:limit]
    edges = [Edge(cursor=encode_cursor(skip + i), node=it) for i, it in enumerate(items)]
    info = PageInfo(
        has_next_page=has_next,
        has_previous_page=skip > 0,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, _total=total)
