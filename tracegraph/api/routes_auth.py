"""`POST /auth/login` (user id + password -> bearer token), `POST /auth/logout` (revoke it),
`GET /auth/me` (who the token stands for, and what that user may do)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import AUTHENTICATED, PUBLIC, get_settings, get_store
from tracegraph.engine.access import auth, permissions
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
    responses={401: {"description": "wrong user id or password, locked or disabled account"}},
)
async def login(request: Request, body: LoginRequest) -> LoginResponse:
    """Exchange a user id and password for a bearer token (failures are audited; 5 lock the account)."""
    store = get_store(request)
    ttl = get_settings(request).token_ttl_minutes
    res = await run_in_threadpool(lambda: auth.login(store, body.username, body.password, ttl_minutes=ttl))
    request.state.actor_id = res.user
    return LoginResponse(token=res.token, user=res.user, session=res.session, expires_at=res.expires_at)


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
