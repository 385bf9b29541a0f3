"""`POST /auth/login` (user id + password -> bearer token), `POST /auth/logout` (revoke it),
`GET /auth/me` (who the token stands for, and what that user may do), `GET /auth/locks` and
`POST /auth/locks/{key}/clear` (failed-login delays, for administrators)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import AUTHENTICATED, PUBLIC, P, get_settings, get_store, requires
from tracegraph.engine.access import auth, login_throttle, permissions
from tracegraph.engine.audit.chain import Actor

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    token: str = Field(description="send as Authorization: Bearer <token>")
    token_type: str = "bearer"
    user: str
    session: str
    expires_at: str


class LogoutResponse(BaseModel):
    revoked: bool


class Me(BaseModel):
    id: str
    name: str
    roles: list[str]
    permissions: list[str]
    session: str


@router.post(
    "/login",
    response_model=LoginResponse,
    dependencies=[PUBLIC],
    responses={401: {"description": "wrong user id or password (one answer for both)"},
               429: {"description": "too many failed attempts for this account or address: wait `retry_after` s"}},
)
async def login(request: Request, body: LoginRequest) -> LoginResponse:
    """Exchange a user id and password for a bearer token. Failures are audited and open growing,
    capped delays per account and per client address (docs/security.md); never a permanent lock."""
    store = get_store(request)
    ttl = get_settings(request).token_ttl_minutes
    address = client_address(request)
    clock = getattr(request.app.state, "clock", None)
    res = await run_in_threadpool(lambda: auth.login(store, body.username, body.password, ttl_minutes=ttl,
                                                     address=address, clock=clock))
    request.state.actor_id = res.user
    return LoginResponse(token=res.token, user=res.user, session=res.session, expires_at=res.expires_at)


def client_address(request: Request) -> str:
    """The peer address of the connection. X-Forwarded-For is NOT trusted (a client could pick
    any address to dodge its throttle); behind a proxy every client shares the proxy's address."""
    return request.client.host if request.client else "unknown"


class ClearRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/locks", response_model=list[login_throttle.Throttle], summary="Failed-login delays (users.manage)")
async def locks(request: Request, actor: Actor = requires(P.USERS_MANAGE)) -> list[login_throttle.Throttle]:
    """Every account and client address with failed logins counted or a delay window open."""
    store = get_store(request)
    clock = getattr(request.app.state, "clock", None)
    return await run_in_threadpool(lambda: login_throttle.list_throttles(store, actor, clock=clock))


@router.post("/locks/{key}/clear", response_model=login_throttle.Throttle, summary="Clear a failed-login delay")
async def clear_lock(request: Request, body: ClearRequest, key: str = Path(..., min_length=3, max_length=300),
                     actor: Actor = requires(P.USERS_MANAGE)) -> login_throttle.Throttle:
    """Clear `account:<user id>` or `address:<client address>` (audited, with a reason)."""
    store = get_store(request)
    clock = getattr(request.app.state, "clock", None)
    return await run_in_threadpool(lambda: login_throttle.clear(store, actor, key, reason=body.reason, clock=clock))


@router.post("/logout", response_model=LogoutResponse)
async def logout(request: Request, actor: Any = AUTHENTICATED) -> LogoutResponse:
    """Revoke the token this request carries (audited)."""
    store = get_store(request)
    token = request.state.token
    request.app.state.token_cache.forget(token)
    return LogoutResponse(revoked=await run_in_threadpool(lambda: auth.logout(store, token)))


@router.get("/me", response_model=Me)
async def me(actor: Actor = AUTHENTICATED) -> Me:
    """The user, roles and permissions of this token."""
    return Me(
        id=actor.id, name=actor.name, roles=sorted(actor.roles),
        permissions=sorted(permissions.permissions_of(actor.roles)), session=actor.session,
    )
