"""The per-request GraphQL context: the store, the caller, and fresh DataLoaders.

Loaders are built here for every request (never shared between requests: they cache, and
the cache must not outlive one caller's view of the data or leak between users).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from strawberry.fastapi import BaseContext

from tracegraph.doors.auth import authenticate
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.stores.base import GraphStore
from tracegraph.graphql.dataloaders import Loaders
from tracegraph.settings import Settings


class Context(BaseContext):
    def __init__(self, request: Request, store: GraphStore, settings: Settings, actor: Actor | None) -> None:
        super().__init__()
        self.request: Request = request  # (BaseContext allows None or a WebSocket: never here)
        self.store = store
        self.settings = settings
        self.actor = actor
        self.loaders = Loaders(store)

    @property
    def request_id(self) -> str:
        return str(getattr(self.request.state, "request_id", "") or "")

    @property
    def token(self) -> str | None:
        return getattr(self.request.state, "token", None)


async def get_context(request: Request) -> Context:
    """A missing token leaves `actor` None (fields then refuse); a bad token is a 401."""
    header = request.headers.get("authorization")
    actor = await authenticate(request, header) if header else None
    return Context(request, request.app.state.store, request.app.state.settings, actor)


def actor_of(info: Any) -> Actor:
    """The caller of a field that has a permission class (so it is authenticated)."""
    actor: Actor | None = info.context.actor
    assert actor is not None, "field without a permission class asked for the actor"
    return actor
