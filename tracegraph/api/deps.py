"""Request dependencies: the store, the settings, and who is calling with which permission.

Every route declares exactly one `Permission` dependency: `requires("trace.read")` or `PUBLIC`.
The role x route matrix test walks the app's routes and fails on a route without one, so a new
route cannot ship unprotected by accident. The permission names and which roles hold them are
the engine's (`tracegraph.engine.access.permissions`), never decided here.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tracegraph.doors.auth import (  # re-exported (see __all__): the routes' dependencies
    TokenCache,
    actor_for_token,
    authenticate,
    check_permission,
    get_settings,
    get_store,
    token_from_header,
)
from tracegraph.doors.names import ANY_USER, P  # re-exported for the routes
from tracegraph.engine.audit.chain import Actor

bearer_scheme = HTTPBearer(auto_error=False, description="A token from POST /auth/login")


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


# explicit, so the doors' names the routes import from here are re-exports (mypy: no_implicit_reexport)
__all__ = [
    "ANY_USER", "AUTHENTICATED", "FIELD_LEVEL", "P", "PUBLIC", "Permission", "Public", "TokenCache",
    "actor_for_token", "authenticate", "bearer_scheme", "check_permission", "get_settings", "get_store",
    "iter_routes", "permission", "requires", "route_permissions", "token_from_header",
]
