"""Users, passwords, lockout and API tokens (21 CFR 11.10(d), 11.300).

* Passwords: Argon2id (argon2-cffi) with the OWASP minimum profile (m=19 MiB, t=2, p=1);
  policy: at least 12 characters, not containing the user id, at least one letter and one
  non-letter, not a well-known password. The hash is never written to the audit trail
  (its change is recorded as redacted).
* Failed logins: one answer for an unknown user id and a wrong password; failures open growing,
  capped delay windows per account and per client address (engine/access/login_throttle.py,
  docs/security.md), never a lock a stranger can hold. Every failed attempt is audited
  (`login_failed`, on the throttle it counts towards), unknown user ids included; an
  administrator lists and clears delays (`users locks`, `users unlock`).
* Tokens: 32 random bytes (url-safe), stored only as SHA-256 with an expiry
  (settings.token_ttl_minutes); `logout` revokes. The token's node id is the session id that
  signatures use for 11.200's "continuous session".
* Every user-management action is an audited write; management needs `users.manage`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel

from tracegraph.engine.access.permissions import check_roles, require
from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import (
    AuthenticationFailed,
    Conflict,
    ConstraintViolation,
    NotFound,
    Problem,
    ValidationFailed,
)
from tracegraph.engine.stores.base import GraphStore

MIN_PASSWORD_LENGTH = 12
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
DEFAULT_TOKEN_TTL_MINUTES = 480
SESSION_FILE = "session.json"
_COMMON = frozenset({
    "password1234", "password12345", "123456789012", "qwertyuiop12", "letmein12345", "administrator",
    "welcome12345", "changeme1234", "iloveyou1234", "passw0rd1234", "trustno11234", "qwerty123456",
})
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


class UserView(BaseModel):
    """A user as shown to administrators (never the password hash)."""

    id: str
    name: str
    roles: list[str]
    status: str
    locked: bool = False
    failed_attempts: int = 0
    created_at: str = ""
    password_changed_at: str = ""

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> UserView:
        return cls(
            id=p["id"], name=p.get("name", ""), roles=list(p.get("roles") or []), status=p.get("status", ""),
            locked=bool(p.get("locked", False)), failed_attempts=int(p.get("failed_attempts") or 0),
            created_at=p.get("created_at", ""), password_changed_at=p.get("password_changed_at", ""),
        )


class LoginResult(BaseModel):
    token: str
    user: str
    session: str
    expires_at: str


# ------------------------------------------------------------------------------------------
# passwords
# ------------------------------------------------------------------------------------------
def password_problems(password: str, username: str = "") -> list[str]:
    """Why a password is not acceptable (empty list: it is)."""
    out = []
    if len(password) < MIN_PASSWORD_LENGTH:
        out.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 256:
        out.append("must be at most 256 characters")
    if username and username.lower() in password.lower():
        out.append("must not contain the user id")
    if not re.search(r"[^\W\d_]", password) or not re.search(r"[\d\W_]", password):
        out.append("must contain at least one letter and one digit or symbol")
    if password.lower() in _COMMON or len(set(password)) < 4:
        out.append("is too common or too repetitive")
    return out


def _check_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise ValidationFailed(
            "the password does not meet the policy: " + "; ".join(problems),
            [Problem(record=username, field="password", message=m) for m in problems],
            hint=f"use {MIN_PASSWORD_LENGTH}+ characters, mixing letters with digits or symbols",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _password_ok(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_username(username: str) -> None:
    if not USERNAME_RE.match(username or ""):
        raise ValidationFailed(
            f"invalid user id {username!r}",
            [Problem(record=username, field="username", value=username, message="invalid")],
            hint="2-64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
        )


# ------------------------------------------------------------------------------------------
# reads
# ------------------------------------------------------------------------------------------
def _user(store: GraphStore, username: str) -> dict[str, Any] | None:
    rows = store.read("auth.user_get", id=username)
    return rows[0]["u"] if rows else None


def _must_user(store: GraphStore, username: str) -> dict[str, Any]:
    u = _user(store, username)
    if u is None:
        raise NotFound(f"no user {username!r}", hint="list users with `tracegraph users list`")
    return u


def get_user(store: GraphStore, username: str) -> UserView | None:
    u = _user(store, username)
    return UserView.from_props(u) if u else None


def list_users(store: GraphStore, actor: Actor) -> list[UserView]:
    require(actor, "users.manage")
    return [UserView.from_props(r["u"]) for r in store.read("auth.users")]


def actor_of(props: dict[str, Any], session: str = "") -> Actor:
    return Actor(id=props["id"], name=props.get("name", props["id"]), roles=frozenset(props.get("roles") or []),
                 session=session)


# ------------------------------------------------------------------------------------------
# audited user writes
# ------------------------------------------------------------------------------------------
_PUBLIC_FIELDS = ("id", "username", "name", "roles", "status", "locked", "failed_attempts", "created_at",
                  "created_by", "updated_at", "password_changed_at", "source")


def _user_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    before = before or {}
    out = [Change(k, before.get(k), v) for k, v in sorted(after.items())
           if k != "password_hash" and before.get(k) != v]
    if "password_hash" in after:
        out.append(Change("password_hash", None, None, redacted=True))
    return out


def _update_user(
    store: GraphStore, username: str, changes: dict[str, Any], actor: Actor, action: str, reason: str, clock: Clock
) -> UserView:
    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        cur = _must_user(store, username)
        props = {**changes, "updated_at": iso(clock.now())}
        return {"id": username, "props": props}, AuditSpec(action, "User", username, _user_changes(cur, props), reason)

    audited_write(store, "auth.user_update", prepare, actor, clock=clock)
    return UserView.from_props(_must_user(store, username))


def _new_user_props(username: str, name: str, password: str, roles: list[str], actor: Actor, now: str) -> dict[str, Any]:
    return {
        "id": username, "username": username, "name": name, "roles": roles, "status": "active", "locked": False,
        "failed_attempts": 0, "password_hash": hash_password(password), "password_changed_at": now,
        "created_at": now, "created_by": actor.id, "updated_at": now, "source": actor.id,
    }


def add_user(
    store: GraphStore,
    actor: Actor,
    username: str,
    name: str,
    password: str,
    roles: list[str],
    *,
    reason: str = "",
    clock: Clock | None = None,
) -> UserView:
    """Create a user (`users.manage`). The printed `name` appears on electronic signatures."""
    require(actor, "users.manage")
    clock = clock or SystemClock()
    _check_username(username)
    if not name.strip():
        raise ValidationFailed("a user needs a printed name (shown on signatures)",
                               [Problem(record=username, field="name", message="empty")])
    roles = check_roles(roles)
    _check_password(password, username)
    now = iso(clock.now())
    props = _new_user_props(username, name.strip(), password, roles, actor, now)
    if _user(store, username) is not None:
        raise Conflict(f"user {username!r} already exists", hint="user ids are never reused")
    try:
        audited_write(store, "auth.user_create",
                      lambda: ({"props": props}, AuditSpec("user_add", "User", username, _user_changes(None, props), reason)),
                      actor, clock=clock)
    except ConstraintViolation:
        raise Conflict(f"user {username!r} already exists", hint="user ids are never reused") from None
    return UserView.from_props(props)


def init_admin(
    store: GraphStore, username: str, name: str, password: str, *, clock: Clock | None = None
) -> UserView:
    """Create the first administrator; refused once any user exists (`tracegraph users init`)."""
    clock = clock or SystemClock()
    _check_username(username)
    _check_password(password, username)
    if store.read("auth.user_count")[0]["count"]:
        raise Conflict("users already exist: `users init` only creates the first administrator",
                       hint="log in as an administrator and use `tracegraph users add`")
    now = iso(clock.now())
    actor = Actor.system("tracegraph users init")
    props = _new_user_props(username, name.strip() or username, password, ["admin"], actor, now)
    try:
        audited_write(store, "auth.user_create_first",
                      lambda: ({"props": props}, AuditSpec("user_init", "User", username, _user_changes(None, props))),
                      actor, clock=clock)
    except NotFound:
        raise Conflict("users already exist: `users init` only creates the first administrator") from None
    return UserView.from_props(props)


def disable_user(store: GraphStore, actor: Actor, username: str, *, reason: str = "", clock: Clock | None = None) -> UserView:
    """Disable an account (users are never deleted: their signatures must stay attributable)."""
    require(actor, "users.manage")
    if username == actor.id:
        raise Conflict("you cannot disable your own account", hint="ask another administrator")
    return _update_user(store, username, {"status": "disabled"}, actor, "user_disable", reason, clock or SystemClock())


def enable_user(store: GraphStore, actor: Actor, username: str, *, reason: str = "", clock: Clock | None = None) -> UserView:
    require(actor, "users.manage")
    return _update_user(store, username, {"status": "active"}, actor, "user_enable", reason, clock or SystemClock())


def set_roles(
    store: GraphStore, actor: Actor, username: str, roles: list[str], *, reason: str = "", clock: Clock | None = None
) -> UserView:
    require(actor, "users.manage")
    roles = check_roles(roles)
    if username == actor.id and "admin" not in roles:
        raise Conflict("you cannot remove your own admin role", hint="ask another administrator")
    return _update_user(store, username, {"roles": roles}, actor, "user_set_roles", reason, clock or SystemClock())


def reset_password(
    store: GraphStore, actor: Actor, username: str, new_password: str, *, reason: str = "", clock: Clock | None = None
) -> UserView:
    """Set a new password; also unlocks the account and clears the failure counter."""
    require(actor, "users.manage")
    _check_password(new_password, username)
    clock = clock or SystemClock()
    from tracegraph.engine.access import login_throttle

    props = {"password_hash": hash_password(new_password), "password_changed_at": iso(clock.now()),
             "locked": False, "failed_attempts": 0}
    view = _update_user(store, username, props, actor, "user_reset_password", reason, clock)
    login_throttle.clear_if_any(store, actor, f"account:{username}", reason=reason, clock=clock)
    return view


def unlock_user(store: GraphStore, actor: Actor, username: str, *, reason: str = "", clock: Clock | None = None) -> UserView:
    """Clear the account's failed-login delay (and an old-style lock), audited."""
    from tracegraph.engine.access import login_throttle

    require(actor, "users.manage")
    clock = clock or SystemClock()
    view = _update_user(store, username, {"locked": False, "failed_attempts": 0}, actor, "user_unlock", reason, clock)
    login_throttle.clear_if_any(store, actor, f"account:{username}", reason=reason, clock=clock)
    return view


# ------------------------------------------------------------------------------------------
# authentication
# ------------------------------------------------------------------------------------------
#: the one answer for an unknown user id and a wrong password (no "N attempts left")
LOGIN_FAILED = "wrong user id or password"
LOGIN_FAILED_HINT = "check both; repeated failures make you wait before the next attempt (docs/security.md)"


def authenticate(store: GraphStore, username: str, password: str, *, clock: Clock | None = None,
                 session: str = "", address: str | None = None) -> Actor:
    """Check a user id and password; returns the Actor or raises AuthenticationFailed.

    Unknown user ids and wrong passwords get the same answer after the same work (an Argon2
    verification against a dummy hash for unknown ids, the same throttle writes). Failures are
    counted per account and per client `address` (engine/access/login_throttle.py): they open delay
    windows that grow and are capped, never a permanent lock. `address` None (signature password
    re-entry inside a session) counts towards the account only. The account's state (disabled,
    locked by an administrator in an older version) is told only to someone who knows its password.
    """
    from tracegraph.engine.access import login_throttle

    clock = clock or SystemClock()
    login_throttle.check(store, username, address, clock=clock)
    u = _user(store, username)
    if not _password_ok(u.get("password_hash") if u else None, password):
        who = actor_of(u, session) if u else Actor(id=username or "?", name="(unknown user)")
        login_throttle.record_failure(store, username, address, who,
                                      "unknown user id" if u is None else "wrong password", clock=clock)
        raise AuthenticationFailed(LOGIN_FAILED, hint=LOGIN_FAILED_HINT)
    assert u is not None
    who = actor_of(u, session)
    if u.get("status") != "active":
        raise AuthenticationFailed(f"the account {username!r} is disabled", hint="ask an administrator")
    if u.get("locked"):  # set by versions before throttling; an administrator clears it
        raise AuthenticationFailed(
            f"the account {username!r} is locked",
            hint="an administrator can unlock it: tracegraph users unlock " + username,
        )
    login_throttle.record_success(store, username, who, clock=clock)
    if u.get("failed_attempts"):
        _update_user(store, username, {"failed_attempts": 0}, who, "login_ok_reset", "", clock)
    return who


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(
    store: GraphStore,
    username: str,
    password: str,
    *,
    ttl_minutes: int = DEFAULT_TOKEN_TTL_MINUTES,
    clock: Clock | None = None,
    address: str | None = "local",
) -> LoginResult:
    """Authenticate and issue an API token (the secret is returned once, stored only hashed).

    `address`: the client's network address (API), or "local" (CLI on the host)."""
    clock = clock or SystemClock()
    actor = authenticate(store, username, password, clock=clock, address=address)
    token = "tg_" + secrets.token_urlsafe(32)
    now = clock.now()
    tid = "T-" + uuid.uuid4().hex
    props = {"id": tid, "user_id": username, "token_hash": _token_hash(token), "created_at": iso(now),
             "expires_at": iso(now + timedelta(minutes=ttl_minutes)), "source": username}
    changes = [Change(k, None, props[k]) for k in ("id", "user_id", "created_at", "expires_at")]
    audited_write(store, "auth.token_create",
                  lambda: ({"user_id": username, "props": props}, AuditSpec("login", "Token", tid, changes)),
                  Actor(actor.id, actor.name, actor.roles, tid), clock=clock)
    return LoginResult(token=token, user=username, session=tid, expires_at=props["expires_at"])


def actor_from_token(store: GraphStore, token: str, *, clock: Clock | None = None) -> Actor:
    """The Actor a token stands for; raises AuthenticationFailed if unknown, expired or revoked."""
    clock = clock or SystemClock()
    rows = store.read("auth.token_by_hash", token_hash=_token_hash(token or ""))
    if not rows:
        raise AuthenticationFailed("unknown or invalid token", hint="log in again (tracegraph login)")
    t, u = rows[0]["t"], rows[0]["u"]
    if t.get("revoked_at"):
        raise AuthenticationFailed("this session was logged out", hint="log in again (tracegraph login)")
    if str(t.get("expires_at", "")) <= iso(clock.now()):
        raise AuthenticationFailed("the session expired", hint="log in again (tracegraph login)")
    if u.get("status") != "active" or u.get("locked"):
        raise AuthenticationFailed(f"the account {u['id']!r} is disabled or locked", hint="ask an administrator")
    return actor_of(u, session=t["id"])


def logout(store: GraphStore, token: str, *, clock: Clock | None = None) -> bool:
    """Revoke the token. Returns False if it was already revoked or unknown."""
    clock = clock or SystemClock()
    rows = store.read("auth.token_by_hash", token_hash=_token_hash(token or ""))
    if not rows or rows[0]["t"].get("revoked_at"):
        return False
    t, u = rows[0]["t"], rows[0]["u"]
    now = iso(clock.now())
    try:
        audited_write(store, "auth.token_revoke",
                      lambda: ({"id": t["id"], "now": now},
                               AuditSpec("logout", "Token", t["id"], [Change("revoked_at", None, now)])),
                      actor_of(u, session=t["id"]), clock=clock)
    except NotFound:
        return False
    return True


# ------------------------------------------------------------------------------------------
# the CLI's logged-in user
# ------------------------------------------------------------------------------------------
def session_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / SESSION_FILE


def save_session(data_dir: str | Path, result: LoginResult) -> Path:
    """Write the token to `<data_dir>/session.json` with mode 0600."""
    path = session_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(result.model_dump(), fh)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def load_session(data_dir: str | Path) -> LoginResult | None:
    path = session_path(data_dir)
    if not path.exists():
        return None
    try:
        return LoginResult(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None


def clear_session(data_dir: str | Path) -> None:
    session_path(data_dir).unlink(missing_ok=True)


def cli_actor(store: GraphStore, data_dir: str | Path, *, clock: Clock | None = None,
              env: dict[str, str] | None = None) -> Actor:
    """Who runs a writing CLI command: TRACEGRAPH_USER + TRACEGRAPH_PASSWORD (scripts), else
    the token saved by `tracegraph login`."""
    env = dict(os.environ) if env is None else env
    user, password = env.get("TRACEGRAPH_USER"), env.get("TRACEGRAPH_PASSWORD")
    if user and password:
        return authenticate(store, user, password, clock=clock, session="env-" + uuid.uuid4().hex[:12],
                            address="local")
    saved = load_session(data_dir)
    if saved is None:
        raise AuthenticationFailed(
            "not logged in", hint="run `tracegraph login`, or set TRACEGRAPH_USER and TRACEGRAPH_PASSWORD"
        )
    return actor_from_token(store, saved.token, clock=clock)


__all__ = [
    "LOGIN_FAILED", "MIN_PASSWORD_LENGTH", "UserView", "LoginResult", "password_problems", "hash_password",
    "get_user", "list_users", "actor_of", "add_user", "init_admin", "disable_user", "enable_user", "set_roles",
    "reset_password", "unlock_user", "authenticate", "login", "actor_from_token", "logout", "session_path",
    "save_session", "load_session", "clear_session", "cli_actor",
]
