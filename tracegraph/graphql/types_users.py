"""GraphQL for users: administrators list and manage them (every change audited, with a
reason); anyone signed in can ask who they are."""

from __future__ import annotations

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.experimental.pydantic import type as pyd_type
from strawberry.types import Info

from tracegraph.doors.names import ANY_USER, P
from tracegraph.engine.access import auth, login_throttle, permissions
from tracegraph.graphql.context import actor_of
from tracegraph.graphql.permissions import Perm

ADMIN = [Perm(P.USERS_MANAGE)]


@pyd_type(model=auth.UserView, all_fields=True, description="A user (never the password hash).")
class User:
    pass


@pyd_type(model=login_throttle.Throttle, all_fields=True,
          description="Failed logins counted for an account or a client address, and its delay window.")
class LoginThrottle:
    pass


@strawberry.type(description="The signed-in user and what the roles allow.")
class Me:
    id: str
    name: str
    roles: list[str]
    permissions: list[str]


@strawberry.type
class UsersQuery:
    @strawberry.field(permission_classes=ADMIN, description="Every user (administrators only).")
    async def users(self, info: Info) -> list[User]:
        store, actor = info.context.store, actor_of(info)
        return [User.from_pydantic(u) for u in await run_in_threadpool(lambda: auth.list_users(store, actor))]

    @strawberry.field(permission_classes=ADMIN)
    async def user(self, info: Info, id: str) -> User | None:
        store = info.context.store
        u = await run_in_threadpool(lambda: auth.get_user(store, id))
        return User.from_pydantic(u) if u else None

    @strawberry.field(permission_classes=ADMIN, description="Failed-login delays: accounts and client addresses "
                                                            "with failures counted or a window open (docs/security.md).")
    async def login_throttles(self, info: Info) -> list[LoginThrottle]:
        store, actor = info.context.store, actor_of(info)
        rows = await run_in_threadpool(lambda: login_throttle.list_throttles(store, actor))
        return [LoginThrottle.from_pydantic(t) for t in rows]

    @strawberry.field(permission_classes=[Perm(ANY_USER)], description="Who this token stands for.")
    def me(self, info: Info) -> Me:
        a = actor_of(info)
        return Me(id=a.id, name=a.name, roles=sorted(a.roles), permissions=sorted(permissions.permissions_of(a.roles)))


@strawberry.type
class UsersMutation:
    @strawberry.mutation(permission_classes=ADMIN, description="Create a user (audited).")
    async def add_user(self, info: Info, username: str, name: str, password: str, roles: list[str],
                       reason: str) -> User:
        store, actor = info.context.store, actor_of(info)
        u = await run_in_threadpool(lambda: auth.add_user(store, actor, username, name, password, roles, reason=reason))
        return User.from_pydantic(u)

    @strawberry.mutation(permission_classes=ADMIN, description="Disable an account (users are never deleted).")
    async def disable_user(self, info: Info, username: str, reason: str) -> User:
        store, actor = info.context.store, actor_of(info)
        return User.from_pydantic(await run_in_threadpool(lambda: auth.disable_user(store, actor, username, reason=reason)))

    @strawberry.mutation(permission_classes=ADMIN)
    async def enable_user(self, info: Info, username: str, reason: str) -> User:
        store, actor = info.context.store, actor_of(info)
        return User.from_pydantic(await run_in_threadpool(lambda: auth.enable_user(store, actor, username, reason=reason)))

    @strawberry.mutation(permission_classes=ADMIN)
    async def set_roles(self, info: Info, username: str, roles: list[str], reason: str) -> User:
        store, actor = info.context.store, actor_of(info)
        return User.from_pydantic(
            await run_in_threadpool(lambda: auth.set_roles(store, actor, username, roles, reason=reason))
        )

    @strawberry.mutation(permission_classes=ADMIN, description="Set a new password (also unlocks).")
    async def reset_password(self, info: Info, username: str, new_password: str, reason: str) -> User:
        store, actor = info.context.store, actor_of(info)
        return User.from_pydantic(
            await run_in_threadpool(lambda: auth.reset_password(store, actor, username, new_password, reason=reason))
        )

    @strawberry.mutation(permission_classes=ADMIN,
                         description="Clear a failed-login delay: key account:<user id> or address:<client address>.")
    async def clear_login_throttle(self, info: Info, key: str, reason: str) -> LoginThrottle:
        store, actor = info.context.store, actor_of(info)
        t = await run_in_threadpool(lambda: login_throttle.clear(store, actor, key, reason=reason))
        return LoginThrottle.from_pydantic(t)

    @strawberry.mutation(permission_classes=ADMIN, description="Clear the account's failed-login delay.")
    async def unlock_user(self, info: Info, username: str, reason: str) -> User:
        store, actor = info.context.store, actor_of(info)
        return User.from_pydantic(await run_in_threadpool(lambda: auth.unlock_user(store, actor, username, reason=reason)))
