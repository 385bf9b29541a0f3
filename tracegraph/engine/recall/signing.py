"""Permissions and electronic signatures for recall steps, behind two thin functions.

`require_recall(actor, permission)` and `signature_for(...)` use the central engines
(`tracegraph.engine.access.permissions.require`, `tracegraph.engine.audit.signatures`) when they are
installed, and otherwise the role table and two-person rules of `rules/recall-policy.toml`.
The signature record follows 21 CFR 11.50: signer's printed name, time, meaning, and the SHA-256
of the signed content, so a later change of the recall snapshot invalidates it.
"""

from __future__ import annotations

import hashlib
import tomllib
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from tracegraph.engine.audit.chain import Actor, canonical
from tracegraph.engine.errors import PermissionDenied, SignatureError
from tracegraph.engine.recall.rules import PACKAGE_RULES

POLICY_FILE = "recall-policy.toml"


@lru_cache(maxsize=4)
def policy(rules_dir: str | None = None) -> dict[str, Any]:
    path = PACKAGE_RULES / POLICY_FILE
    if rules_dir and (Path(rules_dir) / POLICY_FILE).is_file():
        path = Path(rules_dir) / POLICY_FILE
    with path.open("rb") as fh:
        return tomllib.load(fh)


#: recall step -> permission of the central table (tracegraph.engine.access.permissions)
CENTRAL_PERMISSION: dict[str, str] = {
    "recall.read": "recall.read",
    "recall.create": "recall.create",
    "recall.execute": "recall.create",
    "recall.drill": "recall.create",
    "recall.approve": "recall.approve",
    "recall.close": "recall.approve",
    "recall.exception": "recall.approve",
}


def require_recall(actor: Actor, permission: str) -> None:
    """Refuse the step unless the actor may do it. The system actor (demo, watch) may."""
    if "system" in actor.roles:
        return
    try:
        from tracegraph.engine.access import permissions

        fn = getattr(permissions, "require", None)
    except ImportError:
        fn = None
    if fn is not None:
        try:
            fn(actor, CENTRAL_PERMISSION.get(permission, permission))
            return
        except PermissionDenied:
            raise
        except KeyError:  # permission unknown to the central table: use ours
            pass
    allowed = set(policy()["roles"].get(permission, [])) | {"admin"}
    if not (set(actor.roles) & allowed):
        raise PermissionDenied(
            f"{actor.name} ({actor.id}) may not {permission}: needs one of the roles {sorted(allowed)}",
            hint="ask an administrator to grant the role, or have a colleague with it do this step",
        )


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def _verify_password(store: Any, actor: Actor, password: str | None) -> None:
    """21 CFR 11.200: a signature needs the signer's password re-entered. Registered users are
    checked by the auth engine (failures count towards lockout); an actor that is not a
    registered user (tests, the system actor) is checked for presence only."""
    if not password:
        raise SignatureError("signing needs your password re-entered", hint="pass --password or enter it at the prompt")
    if store is None:
        return
    try:
        from tracegraph.engine.access import auth
    except ImportError:
        return
    if auth._user(store, actor.id) is None:
        return
    from tracegraph.engine.errors import AuthenticationFailed

    try:
        auth.authenticate(store, actor.id, password)
    except AuthenticationFailed as exc:
        raise SignatureError(f"signature refused: {exc.message}", hint=exc.hint or "re-enter your own password") from None


def signature_for(
    *,
    store: Any = None,
    signer: Actor,
    step: str,
    record: dict[str, Any],
    content: dict[str, Any],
    password: str | None,
    reason: str,
    ts: str,
    post_props: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check the two-person rule of `step` and return the Signature node properties, to be created
    in the same statement as the step (so no signed step exists without its signature)."""
    rule = next((r for r in policy()["signatures"] if r["step"] == step), None)
    if rule is None:
        raise SignatureError(f"no signature rule for step {step!r}")
    for field in rule.get("not_same_as", []):
        if record.get(field) and record.get(field) == signer.id:
            raise SignatureError(
                f"{signer.name} is the {field.replace('_', ' ')} of recall {record.get('id')}: {rule['text']}",
                hint="have a second person sign",
            )
    _verify_password(store, signer, password)
    if not reason.strip():
        raise SignatureError("a signature needs a reason / comment", hint="pass --reason")
    record_key = str(record.get("id"))
    after = {k: v for k, v in (post_props or record).items() if v is not None}
    return {
        # field names of tracegraph.engine.audit.signatures, so signature_status() lists these too
        "id": f"SIG-{uuid.uuid4().hex[:20]}",
        "record_label": "Recall",
        "record_key": record_key,
        "meaning": rule["meaning"],
        "signer_id": signer.id,
        "signer_name": signer.name,
        "signed_at": ts,
        "reason": reason,
        "session": signer.session or "",
        # the fields this meaning covers (rules/signature-scope.toml), as they are right after this
        # step: later steps that write other fields (start, quarantine, milestones) leave it valid
        **_bind(rule["meaning"], after),
        # the recall scheme: the decision content and snapshot digest, stable across steps
        "decision_hash": content_hash(content),
        "created_at": ts,
        "source": signer.id,
    }


def _bind(meaning: str, props: dict[str, Any]) -> dict[str, Any]:
    from tracegraph.engine.audit.signature_scope import bind

    return bind("Recall", meaning, props)


__all__ = ["require_recall", "signature_for", "content_hash", "policy"]
