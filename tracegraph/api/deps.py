"""Request dependencies: the store, the settings, and who is calling with which permission.

Every route declares exactly one `Permission` dependency: `requires("trace.read")` or `PUBLIC`.
The role x route matrix test walks the app's routes and fails on a route without one, so a new
route cannot ship unprotected by accident. The permission names and which roles hold them are
the engine's (`tracegraph.engine.permissions`), never decided here.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from tracegraph.engine.audit import Actor
from tracegraph.engine.errors import AuthenticationFailed
from tracegraph.engine.stores.base import GraphStore
from tracegraph.settings import Settings

class P:
    """Engine permission names the API uses (tracegraph.engine.permissions.PERMISSIONS)."""

    TRACE_READ = "trace.read"
    IMPACT_READ = "impact.read"
    RECORDS_READ = "records.read"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    IMPORT_WRITE = "import.write"
    QMS_READ = "qms.read"
    QMS_SIGN = "qms.sign"
    RECALL_READ = "recall.read"
    RECALL_CREATE = "recall.create"
    RECALL_APPROVE = "recall.approve"
    USERS_MANAGE = "users.manage"


bearer_scheme = HTTPBearer(auto_error=False, description="A token from POST /auth/login")


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
    from tracegraph.engine import auth

    if cache is not None and (hit := cache.get(token)) is not None:
        return hit
    actor = auth.actor_from_token(store, token)
    if cache is not None:
        cache.put(token, actor)
    return actor


def check_permission(actor: Actor, permission: str) -> None:
    from tracegraph.engine import permissions

    permissions.require(actor, permission)


async def authenticate(request: Request, authorization: str | None) -> Actor:
    token = token_from_header(authorization)
    cache = getattr(request.app.state, "token_cache", None)
    actor = (cache.get(token) if cache is not None else None) or await run_in_threadpool(
        actor_for_token, get_store(request), token, cache
    )
    request.state.actor_id = actor.id
    request.state.actor = actor
    request.state.token = token
    return actor


#: pseudo-permission: any authenticated user (logout, who am I)
ANY_USER = "@authenticated"


class Permission:
    """A route dependency: authenticate the caller and require one engine permission."""

    def __init__(self, permission: str | None) -> None:
        self.permission = permission

    def __repr__(self) -> str:
        return f"Permission({self.permission!r})"

    async def __call__(
        self, request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
    ) -> Actor | None:
        if self.permission is None:
            return None
        header = request.headers.get("authorization")
        actor = await authenticate(request, header)
        if self.permission != ANY_USER:
            check_permission(actor, self.permission)
        return actor


class Public(Permission):
    """Marks a route that needs no token (and shows no lock in the OpenAPI docs)."""

    def __init__(self) -> None:
        super().__init__(None)

    async def __call__(self) -> None:  # type: ignore[override]
        return None


_CACHE: dict[str | None, Permission] = {None: Public()}


def permission(name: str | None) -> Permission:
    if name not in _CACHE:
        _CACHE[name] = Permission(name)
    return _CACHE[name]


def requires(name: str) -> Any:
    """`actor: Actor = requires("trace.read")` in a route signature."""
    return Depends(permission(name))


#: any valid token, whatever the role
AUTHENTICATED: Any = Depends(permission(ANY_USER))

#: for `dependencies=[PUBLIC]` on the few routes that need no token (health, login, metrics)
PUBLIC: Any = Depends(permission(None))


# -- introspection for the role x route matrix test and docs ------------------------------------

#: marks the /graphql endpoint: authentication and permissions are enforced per field
FIELD_LEVEL = "@graphql-field-level"


def route_permissions(route: Any) -> list[str | None]:
    """Every Permission dependency declared on an APIRoute (route-level and parameter-level)."""
    found: list[str | None] = []

    def walk(dep: Any) -> None:
        call = getattr(dep, "call", None)
        if isinstance(call, Permission):
            found.append(call.permission)
        for sub in getattr(dep, "dependencies", []) or []:
            walk(sub)

    walk(route.dependant)
    return found


def iter_routes(app: Any) -> list[tuple[str, str, Any, list[str | None]]]:
    """(method, full path, route, permissions) for every HTTP route of the app, GraphQL's as
    [FIELD_LEVEL]; framework routes (OpenAPI, docs, static files) are left out."""
    from fastapi.routing import APIRoute
    from strawberry.fastapi import GraphQLRouter

    out: list[tuple[str, str, Any, list[str | None]]] = []

    def walk(routes: list[Any], prefix: str, graphql: bool) -> None:
        for r in routes:
            orig = getattr(r, "original_router", None)
            if orig is not None:
                ctx = getattr(r, "include_context", None)
                walk(orig.routes, prefix + (getattr(ctx, "prefix", "") or ""), graphql or isinstance(orig, GraphQLRouter))
                continue
            if not isinstance(r, APIRoute):
                continue
            perms: list[str | None] = [FIELD_LEVEL] if graphql else route_permissions(r)
            for m in sorted(r.methods or []):
                out.append((m, prefix + r.path, r, perms))

    walk(app.router.routes, "", False)
    return out
