"""`ReadCacheMiddleware`: answer repeated dashboard reads from the audit-head-keyed read cache.

Why a middleware (pure ASGI) and not a cache inside the resolvers: for the dashboards' small
reads most of the time was the framework (routing through ~80 routes, strawberry's execution,
per-field permission classes, JSON encoding), not the database; a repeated read answered here
skips all of it. What it keeps and when (doors/read_cache.py): answers are tagged with the audit
head read before they were computed, so a write makes every earlier answer unreachable.

What it never changes:
- authentication: the caller's token is checked as the full path checks it (doors/auth.py
  actor_for_token, with the same per-process token cache); a refused token takes the full path,
  which answers the refusal; with the token cache off (token_cache_s = 0) nothing is cached;
- permissions: answers are keyed by the caller's roles and only successful answers (200, and for
  GraphQL no `errors`) are kept, so a caller whose roles are refused is refused by the full path;
- which reads: GET of the REST routes in `REST_PATHS`, and POST /graphql documents that
  graphql/read_cache.cacheable accepts (reads that depend on the graph only, not on the clock).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Hashable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracegraph.doors.auth import TokenCache, actor_for_token
from tracegraph.doors.read_cache import CachedAnswer, ReadCache, Version, head_version
from tracegraph.engine.errors import TracegraphError
from tracegraph.graphql.read_cache import cacheable

#: REST reads answered from the graph and the request only (GET; the query string is in the key)
REST_PATHS = re.compile(
    r"^/(?:impact|trace/back/[^/]+|trace/forward/[^/]+|qms/checklist/[^/]+|recalls|recalls/[^/]+"
    r"|qms/(?!open-items$|checklist$)[^/]+)$"
)
#: request headers that can change an answer's form (the rest are transport)
_VARY = (b"accept", b"content-type")
_KEEP_HEADERS = (b"content-type", b"content-length")


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    for k, v in headers:
        if k == b"authorization":
            scheme, _, token = v.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


class HeadReads:
    """The audit head for cached answers, read at most once at a time per worker, shared by the
    requests that wait for it, without ever serving a head read older than the request.

    Why: every cached answer needs the head (one database round trip handed to a thread); under
    load most of a hit's cost. Why it stays fresh: a request only shares a read that STARTS after
    it arrived. With no read in flight it starts one; with one in flight (it started before this
    request, so it might miss a write that finished just before the request) the request waits for
    the next read, which starts when the one in flight ends; everyone arriving meanwhile shares it.
    So a read-after-write from any client sees its write, as with one read per request."""

    def __init__(self, read: Callable[[Any], Version] = head_version) -> None:
        self._read = read
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: asyncio.Future[Version] | None = None
        self._next: asyncio.Future[Version] | None = None
        self.reads = 0
        self.asks = 0

    async def version(self, store: Any) -> Version:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests start one per client): nothing to share
            self._loop, self._running, self._next = loop, None, None
        self.asks += 1
        if self._running is None:
            fut = self._start(store, None)
        else:
            if self._next is None:
                self._next = loop.create_future()
            fut = self._next
        return await asyncio.shield(fut)  # one waiter cancelled (client gone) must not cancel the others'

    def _start(self, store: Any, into: asyncio.Future[Version] | None) -> asyncio.Future[Version]:
        self.reads += 1
        task: asyncio.Future[Version] = asyncio.ensure_future(run_in_threadpool(self._read, store))
        self._running = task

        def done(t: asyncio.Future[Version]) -> None:
            if self._running is t:
                self._running = None
            if into is not None and not into.done():
                if t.cancelled():
                    into.cancel()
                elif (exc := t.exception()) is not None:
                    into.set_exception(exc)
                else:
                    into.set_result(t.result())
            nxt, self._next = self._next, None
            if nxt is not None and self._running is None:
                self._start(store, nxt)

        task.add_done_callback(done)
        return task


class ReadCacheMiddleware:
    def __init__(self, app: ASGIApp, cache: ReadCache) -> None:
        self.app = app
        self.cache = cache
        self.heads = HeadReads()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.cache.max_entries <= 0:
            await self.app(scope, receive, send)
            return
        method, path = scope.get("method", ""), scope.get("path", "")
        graphql = method == "POST" and path == "/graphql"
        if not (graphql or (method == "GET" and REST_PATHS.match(path))):
            await self.app(scope, receive, send)
            return
        state: Any = scope.get("app")
        tokens: TokenCache | None = getattr(getattr(state, "state", None), "token_cache", None)
        token = _bearer(scope.get("headers", []))
        actor = tokens.get(token) if tokens is not None and token else None
        if actor is None and token and tokens is not None and tokens.ttl > 0:
            try:  # the full path's own check (the engine's, remembered in the same token cache)
                actor = await run_in_threadpool(actor_for_token, state.state.store, token, tokens)
            except TracegraphError:
                actor = None  # refused: the full path says why
        body = b""
        if graphql:  # read the body (the body size limit runs outside), replayed downstream on a miss
            chunks: list[bytes] = []
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    await self.app(scope, _replay(b"".join(chunks), message, receive), send)
                    return
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            receive = _replay(body, None, receive)
        if actor is None or (graphql and not _cacheable_body(body)):
            await self.app(scope, receive, send)
            return
        store = state.state.store
        version = await self.heads.version(store)
        vary = tuple(v for k, v in scope.get("headers", []) if k in _VARY)
        key: Hashable = (method, path, scope.get("query_string", b""), body, vary, actor.roles)
        hit = self.cache.get(version, key)
        if hit is not None:
            st = scope.setdefault("state", {})
            st["actor_id"] = actor.id
            if hit.route is not None:
                scope["route"] = hit.route  # the metrics' route template, as on the full path
            await send({"type": "http.response.start", "status": hit.status, "headers": list(hit.headers)})
            await send({"type": "http.response.body", "body": hit.body})
            return
        start: dict[str, Any] = {}
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        out = b"".join(parts)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() in _KEEP_HEADERS]
        if start.get("status") == 200 and not (graphql and _has_errors(out)):
            self.cache.put(version, key, CachedAnswer(200, tuple(headers), out, scope.get("route")))


def _replay(body: bytes, then: Message | None, receive: Receive) -> Receive:
    """A `receive` that hands out the body already read, then (disconnects) what the client sends."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return then
        return await receive()

    return again


def _cacheable_body(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        return False
    op = data.get("operationName")
    return cacheable(data["query"], op if isinstance(op, str) else None)


def _has_errors(out: bytes) -> bool:
    try:
        data = json.loads(out)
    except ValueError:
        return True
    return not isinstance(data, dict) or bool(data.get("errors")) or "data" not in data


__all__ = ["REST_PATHS", "HeadReads", "ReadCacheMiddleware"]
