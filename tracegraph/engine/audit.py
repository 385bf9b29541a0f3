"""The append-only, hash-chained audit trail: the write primitive every business command uses.

Each audited command is ONE Cypher statement: `audit.guard` (lock the AuditHead, compare its
seq with what we read) + the business change + `audit.append` (create the AuditEntry, link
PREV and ABOUT, move the head). If another writer appended first the statement matches
nothing and changes nothing, and we retry with the new head. The entry's hash is computed
here, before the write:

    hash = SHA-256( RFC 8785 canonical JSON of every stored entry field except `hash` )

so `verify` only needs the stored properties to recompute it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import rfc8785

from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import Conflict, NotFound
from tracegraph.engine.stores.base import GraphStore, Row

GENESIS_HASH = "0" * 64
MAX_RETRIES = 200

#: the stored fields of an AuditEntry that the hash covers (everything but `hash` itself)
ENTRY_FIELDS = (
    "seq", "ts", "actor", "actor_name", "action", "target_label", "target_key",
    "changes", "reason", "session", "prev_hash",
)


@dataclass(frozen=True)
class Actor:
    """Who does something: the user's id, printed name and roles, and the session it came from."""

    id: str
    name: str
    roles: frozenset[str] = frozenset()
    session: str = ""

    @classmethod
    def system(cls, name: str = "tracegraph system") -> "Actor":
        return cls(id="system", name=name, roles=frozenset({"system"}))


@dataclass
class Change:
    field: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass
class AuditSpec:
    """What one audited command records about itself."""

    action: str
    target_label: str
    target_key: str
    changes: list[Change] = field(default_factory=list)
    reason: str = ""


def canonical(obj: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON-like value."""
    return rfc8785.dumps(obj)


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: entry.get(k) for k in ENTRY_FIELDS}
    return hashlib.sha256(canonical(body)).hexdigest()


def changes_between(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """Field-level differences; fields equal in both are left out."""
    before = before or {}
    return [Change(k, before.get(k), v) for k, v in sorted(after.items()) if before.get(k) != v]


def build_entry(seq: int, prev_hash: str, actor: Actor, spec: AuditSpec, ts: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "seq": seq,
        "ts": ts,
        "actor": actor.id,
        "actor_name": actor.name,
        "action": spec.action,
        "target_label": spec.target_label,
        "target_key": spec.target_key,
        "changes": json.dumps([c.to_dict() for c in spec.changes], sort_keys=True, default=str),
        "reason": spec.reason or "",
        "session": actor.session or "",
        "prev_hash": prev_hash,
    }
    entry["hash"] = entry_hash(entry)
    return entry


def ensure_head(store: GraphStore) -> Row:
    return store.write("audit.init_head", genesis=GENESIS_HASH)[0]


def head(store: GraphStore) -> Row:
    rows = store.read("audit.head")
    if not rows:
        return ensure_head(store)
    return rows[0]


Prepare = Callable[[], tuple[dict[str, Any], AuditSpec]]


def audited_write(
    store: GraphStore,
    query_name: str,
    prepare: Prepare,
    actor: Actor,
    *,
    clock: Clock | None = None,
) -> list[Row]:
    """Run `query_name` (which must include audit.guard and audit.append) as one statement.

    `prepare()` is called on every attempt, after the head was read, and returns the query's
    own parameters and the AuditSpec; it reads current state for the before-values, and the
    compare-and-set guarantees nothing changed between that read and the write.
    Raises NotFound when the statement matched nothing although the head did not move.
    """
    clock = clock or SystemClock()
    for attempt in range(MAX_RETRIES):
        h = head(store)
        params, spec = prepare()
        entry = build_entry(int(h["seq"]) + 1, str(h["hash"]), actor, spec, iso(clock.now()))
        rows = store.write(query_name, audit_prev_seq=int(h["seq"]), audit_entry=entry, **params)
        if rows:
            return rows
        h2 = head(store)
        if int(h2["seq"]) == int(h["seq"]):
            raise NotFound(
                f"{spec.target_label} {spec.target_key!r} was not found, or is not in a state that allows "
                f"{spec.action!r}",
                hint="check the key; nothing was changed",
            )
        time.sleep(min(0.001 * (attempt + 1), 0.02))
    raise Conflict(
        f"could not append to the audit chain after {MAX_RETRIES} attempts (heavy concurrent writes)",
        hint="retry the command",
    )


__all__ = [
    "Actor", "AuditSpec", "Change", "GENESIS_HASH", "ENTRY_FIELDS", "canonical", "entry_hash",
    "changes_between", "build_entry", "ensure_head", "head", "audited_write",
]
