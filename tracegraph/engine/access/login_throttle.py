"""Failed-login throttling: growing delays per account and per client address, never a lock a
stranger can hold (21 CFR 11.300(d): attempts at unauthorised use are limited and recorded).

Why delays and not a lock: a permanent lock after N failures lets anyone who knows a user id lock
the QA manager out during a recall. Here a failure only ever buys a *delay window*:

* per account (`account:<user id>`, from any address): the first `account.free` consecutive
  failures cost nothing; each further failure opens a window of `base * 2**(k-1)` seconds
  (k = failures beyond the free ones), capped at `account.cap` (60 s). So whatever a stranger does,
  the real user can log in at most 60 s after the stranger's last counted failure.
* per client address (`address:<ip>`, across all accounts): `address.free` failures, then windows
  growing to `address.cap` (1 h). This is what stops one address from hammering, including
  password spraying over many user ids.
* An attempt inside an open window is refused with `too_many_attempts` (HTTP 429, Retry-After)
  WITHOUT checking the password and without counting: a stranger cannot extend the window by
  hammering, only by failing again after it ends.
* A successful login clears its account's counter (not the address's: an attacker holding one
  valid account could otherwise reset the address counter at will). Counters also restart after
  `reset_after` (24 h) without failures.
* The state is the same for user ids that exist and those that do not, so neither the answers nor
  the delays tell which ids exist.

Storage: `LoginThrottle` nodes in the graph, each change one audited statement (action
`login_failed` / `login_throttle_cleared`), because several processes (API workers, CLI) share
one data folder and must see the same counters. Administrators list them (`users locks`) and clear
them (`users unlock`), both `users.manage`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from tracegraph.engine.access.permissions import require
from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import NotFound, Problem, TracegraphError, ValidationFailed
from tracegraph.engine.stores.base import GraphStore


@dataclass(frozen=True)
class Tier:
    """One throttle: failures allowed before delays, the first delay (s) and the longest (s)."""

    free: int
    base: float
    cap: float

    def delay(self, failures: int) -> float:
        """Seconds of the window opened by the `failures`-th consecutive failure (0: none)."""
        beyond = failures - self.free
        if beyond <= 0:
            return 0.0
        return float(min(self.cap, self.base * 2 ** min(beyond - 1, 40)))


@dataclass(frozen=True)
class LockoutPolicy:
    """The lockout policy as data (docs/security.md states the same numbers; a test checks them)."""

    account: Tier = Tier(free=5, base=2.0, cap=60.0)
    address: Tier = Tier(free=20, base=2.0, cap=3600.0)
    reset_after: timedelta = timedelta(hours=24)


POLICY = LockoutPolicy()
#: the address recorded for logins that do not come over the network (CLI, scripts on the host)
LOCAL = "local"


class TooManyAttempts(TracegraphError):
    """A login attempt inside a delay window: refused without checking the password."""

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(
            "too many failed login attempts: try again later",
            hint=f"wait {self.retry_after} s and try again; an administrator can clear the delay "
                 "(tracegraph users unlock)",
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["retry_after"] = self.retry_after
        return out


class Throttle(BaseModel):
    """One throttle as shown to administrators."""

    id: str
    kind: str  # account | address
    subject: str
    failures: int = 0
    last_failed_at: str | None = None
    until: str | None = None
    active: bool = False  # a delay window is open now
    retry_after_s: float = 0.0

    @classmethod
    def from_props(cls, p: dict[str, Any], now: datetime) -> Throttle:
        kind, _, subject = str(p["id"]).partition(":")
        until = p.get("until") or None
        left = (datetime.fromisoformat(until) - now).total_seconds() if until else 0.0
        return cls(id=p["id"], kind=kind, subject=subject, failures=int(p.get("failures") or 0),
                   last_failed_at=p.get("last_failed_at"), until=until, active=left > 0,
                   retry_after_s=max(0.0, left))


def keys(username: str, address: str | None) -> list[str]:
    out = [f"account:{username}"]
    if address:
        out.append(f"address:{address}")
    return out


def _read(store: GraphStore, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {r["t"]["id"]: r["t"] for r in store.read("auth.throttle_get", ids=ids)}


def check(store: GraphStore, username: str, address: str | None, *, clock: Clock | None = None) -> None:
    """Refuse (TooManyAttempts) while a delay window of the account or the address is open."""
    now = (clock or SystemClock()).now()
    wait = 0.0
    for p in _read(store, keys(username, address)).values():
        until = p.get("until")
        if until:
            wait = max(wait, (datetime.fromisoformat(until) - now).total_seconds())
    if wait > 0:
        raise TooManyAttempts(wait)


def _write(store: GraphStore, key: str, compute: Callable[[dict[str, Any]], dict[str, Any]], actor: Actor,
           action: str, reason: str, clock: Clock) -> None:
    """One audited statement on one throttle. `compute(current props) -> new props` runs inside
    the compare-and-set retry loop, so two processes failing at once both count."""
    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        cur = _read(store, [key]).get(key, {})
        props = compute(cur)
        changes = [Change(k, cur.get(k), v) for k, v in sorted(props.items()) if cur.get(k) != v]
        return {"id": key, "props": props}, AuditSpec(action, "LoginThrottle", key, changes, reason)

    audited_write(store, "auth.throttle_set", prepare, actor, clock=clock)


def record_failure(store: GraphStore, username: str, address: str | None, actor: Actor, reason: str, *,
                   clock: Clock | None = None, policy: LockoutPolicy = POLICY) -> None:
    """Count one failed attempt on the account and the address; open their delay windows."""
    clock = clock or SystemClock()
    now = clock.now()
    for key in keys(username, address):
        tier = policy.account if key.startswith("account:") else policy.address

        def compute(p: dict[str, Any], tier: Tier = tier, key: str = key) -> dict[str, Any]:
            last = p.get("last_failed_at")
            stale = last is not None and now - datetime.fromisoformat(last) > policy.reset_after
            n = (0 if stale else int(p.get("failures") or 0)) + 1
            delay = tier.delay(n)
            props = {"id": key, "failures": n, "last_failed_at": iso(now),
                     "until": iso(now + timedelta(seconds=delay)) if delay else None, "updated_at": iso(now)}
            if "created_at" not in p:
                props["created_at"] = iso(now)
            return props

        _write(store, key, compute, actor, "login_failed", reason, clock)


def _cleared(now: datetime) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda p: {"failures": 0, "until": None, "updated_at": iso(now)}


def record_success(store: GraphStore, username: str, actor: Actor, *, clock: Clock | None = None) -> None:
    """A successful login clears its account's counter (written only if there was one)."""
    clock = clock or SystemClock()
    key = f"account:{username}"
    p = _read(store, [key]).get(key)
    if p and (p.get("failures") or p.get("until")):
        _write(store, key, _cleared(clock.now()), actor, "login_throttle_cleared", "successful login", clock)


def list_throttles(store: GraphStore, actor: Actor, *, clock: Clock | None = None) -> list[Throttle]:
    """Every throttle with failures counted or a window open (`users.manage`)."""
    require(actor, "users.manage")
    now = (clock or SystemClock()).now()
    return [Throttle.from_props(r["t"], now) for r in store.read("auth.throttles", now=iso(now))]


def clear(store: GraphStore, actor: Actor, key: str, *, reason: str, clock: Clock | None = None) -> Throttle:
    """Clear one throttle (`account:<user>` or `address:<ip>`): audited, with a reason."""
    require(actor, "users.manage")
    clock = clock or SystemClock()
    if not key.startswith(("account:", "address:")):
        raise ValidationFailed(f"{key!r} is not a throttle key",
                               [Problem(record="throttle", field="key", value=key, message="unknown kind")],
                               hint="account:<user id> or address:<client address> (see `tracegraph users locks`)")
    p = _read(store, [key]).get(key)
    if p is None:
        raise NotFound(f"no throttle {key!r}", hint="list them with `tracegraph users locks`")
    _write(store, key, _cleared(clock.now()), actor, "login_throttle_cleared", reason or "cleared by an administrator",
           clock)
    return Throttle.from_props(_read(store, [key])[key], clock.now())


def clear_if_any(store: GraphStore, actor: Actor, key: str, *, reason: str, clock: Clock | None = None) -> bool:
    """Clear `key` if it counts failures or holds a window (unlock / reset-password); False if nothing to clear."""
    p = _read(store, [key]).get(key)
    if not p or not (p.get("failures") or p.get("until")):
        return False
    clear(store, actor, key, reason=reason, clock=clock)
    return True


__all__ = ["Tier", "LockoutPolicy", "POLICY", "LOCAL", "TooManyAttempts", "Throttle", "check", "record_failure",
           "record_success", "list_throttles", "clear", "clear_if_any", "keys"]
