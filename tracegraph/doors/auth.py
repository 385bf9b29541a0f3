"""Who is calling a network door: the bearer token read from the request, verified by the engine
(with a short per-process cache keyed by the token's hash), and the permission check.

Why here: REST routes (`api.deps.Permission`) and GraphQL fields (`graphql.permissions`) authenticate
the same way; both import this module, neither imports the other.
"""

from __future__ import annotations

import hashlib
import threading
import time

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.errors import AuthenticationFailed
from tracegraph.engine.stores.base import GraphStore
from tracegraph.settings import Settings


def get_store(request: Request) -> GraphStore:
    return request.app.state.store  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def token_from_header(value: str | None) -> str:
    if not value:
        raise AuthenticationFailed(
            "this endpoint needs a bearer token", hint="POST /auth/login, then send Authorization: Bearer <token>"
        )
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "the Authorization header must be 'Bearer <token>'", hint="POST /auth/login to get a token"
        )
    return token.strip()


class TokenCache:
    """Verified tokens remembered for `ttl` seconds per process, keyed by the token's SHA-256
    (the secret itself is not kept). Saves one database read per request; `forget` on logout."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._items: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> Actor | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            hit = self._items.get(self._key(token))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, token: str, actor: Actor) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items.clear()
            self._items[self._key(token)] = (time.monotonic() + self.ttl, actor)

    def forget(self, token: str) -> None:
        with self._lock:
            self._items.pop(self._key(token), None)


def actor_for_token(store: GraphStore, token: str, cache: TokenCache | None = None) -> Actor:
    """The engine decides whether the token is valid, unexpired and not revoked."""
    from tracegraph.engine.access import auth

    if cache is not None and (hit := cache.get(token)) is not None:
        return hit
    actor = auth.actor_from_token(store, token)
    if cache is not None:
        cache.put(token, actor)
    return actor


def check_permission(actor: Actor, permission: str) -> None:
    from tracegraph.engine.access import permissions

    permissions.require(actor, permission)


async def authenticate(request: Request, authorization: str | None) -> Actor:
    token = token_from_header(authorization)
    cache: TokenCache | None = getattr(request.app.state, "token_cache", None)
    actor = cache.get(token) if cache is not None else None
    if actor is None:  # (not `x or await ...`: mypy would infer the awaited call as Actor | None)
        actor = await run_in_threadpool(actor_for_token, get_store(request), token, cache)
    request.state.actor_id = actor.id
    request.state.actor = actor
    request.state.token = token
    return actor
