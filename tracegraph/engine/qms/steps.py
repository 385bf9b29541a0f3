"""One lifecycle step of a quality record named by its type's name, as the doors receive it.

Why: REST and GraphQL take a step by type name and must answer alike, including the signed-step
refusal (403 `signature_refused` with a hint to re-enter the password, 21 CFR 11.200).
"""

from __future__ import annotations

from typing import Any

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.errors import AuthenticationFailed, SignatureError
from tracegraph.engine.qms.lifecycle import QualityRecord, move
from tracegraph.engine.qms.types import record_type
from tracegraph.engine.stores.base import GraphStore


def take_step(store: GraphStore, actor: Actor, kind: str, key: str, step: str, *, fields: dict[str, Any] | None,
              reason: str, password: str | None, username: str | None) -> QualityRecord:
    """One lifecycle step through the engine; shared by REST and GraphQL so both answer alike."""
    rt = record_type(kind)
    t = rt.transition(step)
    try:
        return move(store, rt, actor, key, step, fields=fields or {}, reason=reason or "",
                    password=password, username=username or actor.id)
    except AuthenticationFailed as exc:
        if not t.signature:
            raise
        hint = ("re-enter YOUR password in `password` (21 CFR 11.200)" if password else
                f"step {step!r} is signed ({t.signature}): send `password`")
        raise SignatureError(f"signature refused for step {step!r} of {rt.label} {key!r}: {exc.message}",
                             hint=hint) from None


__all__ = ["take_step"]
