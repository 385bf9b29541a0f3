"""Electronic signatures under 21 CFR Part 11.

* 11.50 signature manifestation: each Signature stores the signer's printed name, user id,
  the time (UTC) and the meaning (authored, reviewed, approved, released, closed, exception),
  and `signature_status` shows them with the record.
* 11.70 signature/record linking: `(Signature)-[:SIGNED]->(record)` plus a hash of each field
  the meaning covers (engine/audit/signature_scope.py, rules/signature-scope.toml). A later change to
  a covered field makes the signature show as INVALID naming the field (`signature_status`);
  later lifecycle steps that write other fields leave it valid. Signatures made before the
  per-field scheme are checked against the whole content as they were signed ("legacy").
  Excluded, as bookkeeping rather than content: `VOLATILE_PROPS` (updated_at, updated_by,
  locked_at, locked_by).
* 11.200(a)(1): signing re-enters the password every time; the first signing in a session
  (the login token's id) also needs the user id; later ones in the same session the password.
* Two-person rules, as data (`TWO_PERSON_RULES`), per record label and meaning. A violation
  is refused with a clear message AND audited (`signature_refused`).
* Signing is one audited statement (Signature + SIGNED edge + audit entry).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tracegraph.engine import commands
from tracegraph.engine.access.auth import authenticate
from tracegraph.engine.access.permissions import require, sign_permission
from tracegraph.engine.audit import signature_scope
from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.audit.signature_scope import VOLATILE_PROPS, content_hash
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import AuthenticationFailed, NotFound, Problem, SignatureError, ValidationFailed
from tracegraph.engine.stores.base import GraphStore

MEANINGS: tuple[str, ...] = ("authored", "reviewed", "approved", "released", "closed", "exception")


@dataclass(frozen=True)
class TwoPersonRule:
    """For `label` ("*": any) signed with `meaning`: the signer must not be anyone who signed the
    record with one of `not_signers_of`, nor the person in the record's field `not_field`."""

    label: str
    meaning: str
    not_signers_of: tuple[str, ...] = ()
    not_field: str | None = None
    why: str = ""


TWO_PERSON_RULES: tuple[TwoPersonRule, ...] = (
    TwoPersonRule("*", "reviewed", ("authored",), "created_by", "the reviewer must not be the author"),
    TwoPersonRule("*", "approved", ("authored",), None, "the approver must not be the author"),
    TwoPersonRule("Release", "approved", ("reviewed", "authored"), None,
                  "a batch release is approved by someone other than its reviewer"),
    TwoPersonRule("Release", "released", ("reviewed",), None,
                  "a batch release is released by someone other than its reviewer"),
    TwoPersonRule("Recall", "approved", ("authored",), "created_by", "a recall is approved by someone other than its author"),
    TwoPersonRule("CAPA", "closed", (), "created_by", "a CAPA is closed by someone other than its author"),
)


class SignatureView(BaseModel):
    """A signature as shown with its record (11.50), and whether it still binds (11.70)."""

    id: str
    record_label: str
    record_key: str
    meaning: str
    signer_id: str
    signer_name: str
    signed_at: str
    reason: str = ""
    content_hash: str
    valid: bool
    status: str
    scope: str = "legacy"
    covered_fields: list[str] = []
    changed_fields: list[str] = []
    manifestation: str = ""  # 11.50: printed name, user id, meaning, time - shown wherever the record is

    def model_post_init(self, _ctx: Any) -> None:
        if not self.manifestation:
            self.manifestation = manifest(self.signer_name, self.signer_id, self.meaning, self.signed_at)


def manifest(name: str, user: str, meaning: str, at: str) -> str:
    """The 11.50 manifestation line: printed name (user id), meaning, date and time (UTC)."""
    return f"{name} ({user}), {meaning}, {at} UTC"


def _signatures(store: GraphStore, label: str, key: str) -> list[dict[str, Any]]:
    return [r["s"] for r in store.read("signatures.for_record", label=label, key=key)]


def rules_for(label: str, meaning: str) -> list[TwoPersonRule]:
    return [r for r in TWO_PERSON_RULES if r.meaning == meaning and r.label in ("*", label)]


def _violation(label: str, meaning: str, record: dict[str, Any], prior: list[dict[str, Any]], signer: str) -> TwoPersonRule | None:
    for rule in rules_for(label, meaning):
        if rule.not_field and record.get(rule.not_field) == signer:
            return rule
        if any(s.get("signer_id") == signer and s.get("meaning") in rule.not_signers_of for s in prior):
            return rule
    return None


def refuse_two_person_violation(store: GraphStore, label: str, key: str, meaning: str, actor: Actor,
                                record: dict[str, Any], *, clock: Clock | None = None) -> None:
    """Refuse (and audit the refusal of) a signature that breaks a two-person rule.

    Called by `sign`, and by workflows that must refuse a signed step before they change the
    record (engine/qms/lifecycle.py)."""
    rule = _violation(label, meaning, record, _signatures(store, label, key), actor.id)
    if rule is not None:
        msg = f"{actor.name} ({actor.id}) may not sign {label} {key!r} as {meaning}: {rule.why}"
        commands.note(store, label, key, "signature_refused", actor,
                      changes=[Change("meaning", None, meaning), Change("rule", None, rule.why)], reason=msg,
                      clock=clock or SystemClock())
        raise SignatureError(msg, hint="two-person rule: another qualified person must sign")


def sign(
    store: GraphStore,
    record_label: str,
    record_key: str,
    meaning: str,
    actor: Actor,
    password: str,
    *,
    reason: str = "",
    username: str | None = None,
    clock: Clock | None = None,
) -> SignatureView:
    """Sign a record. Re-authenticates (password; plus the user id on the first signing of the
    session), checks permission and two-person rules, then writes Signature + audit entry."""
    clock = clock or SystemClock()
    if meaning not in MEANINGS:
        raise ValidationFailed(f"unknown signature meaning {meaning!r}",
                               [Problem(record=record_key, field="meaning", value=meaning, message="unknown")],
                               hint=f"meanings: {', '.join(MEANINGS)}")
    commands._check_label(record_label)
    require(actor, sign_permission(record_label, meaning))
    first_in_session = not actor.session or not store.read("signatures.session_count", session=actor.session)[0]["count"]
    if first_in_session and username is None:
        raise AuthenticationFailed(
            "the first signing in a session needs your user id and password (21 CFR 11.200)",
            hint="pass username= (CLI: --user) as well as the password",
        )
    if username is not None and username != actor.id:
        raise AuthenticationFailed("the user id does not match the logged-in user", hint="sign as yourself")
    authenticate(store, actor.id, password, clock=clock, session=actor.session)

    record = commands.get(store, record_label, record_key)
    if record is None:
        raise NotFound(f"{record_label} {record_key!r} does not exist")
    if record.props.get("retired"):
        raise SignatureError(f"{record_label} {record_key!r} is retired and cannot be signed")
    refuse_two_person_violation(store, record_label, record_key, meaning, actor, record.props, clock=clock)

    sid = "SIG-" + uuid.uuid4().hex[:20]
    made: dict[str, Any] = {}

    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        cur = commands.get(store, record_label, record_key)
        if cur is None:
            raise NotFound(f"{record_label} {record_key!r} does not exist")
        now = iso(clock.now())
        props = {
            "id": sid, "record_label": record_label, "record_key": record_key, "meaning": meaning,
            "signer_id": actor.id, "signer_name": actor.name, "signed_at": now, "reason": reason,
            "session": actor.session, "created_at": now, "source": actor.id,
            **signature_scope.bind(record_label, meaning, cur.props),
        }
        made.clear()
        made.update(props)
        changes = [Change(k, None, v) for k, v in sorted(props.items())]
        return {"key": record_key, "props": props}, AuditSpec("sign", "Signature", sid, changes, reason)

    audited_write(store, f"signatures.sign.{record_label}", prepare, actor, clock=clock)
    cur = commands.get(store, record_label, record_key)
    return _view(made, cur.props if cur else None)


def _view(s: dict[str, Any], current: dict[str, Any] | None) -> SignatureView:
    b = signature_scope.check(s, current)
    return SignatureView(
        id=s["id"], record_label=s["record_label"], record_key=s["record_key"], meaning=s["meaning"],
        signer_id=s["signer_id"], signer_name=s["signer_name"], signed_at=s["signed_at"],
        reason=s.get("reason", ""), content_hash=s["content_hash"], valid=b.valid, status=b.status,
        scope=b.scope, covered_fields=b.covered_fields, changed_fields=b.changed_fields,
    )


def signature_status(store: GraphStore, label: str, key: str) -> list[SignatureView]:
    """Every signature of a record (oldest first), each valid only while the fields it binds are
    unchanged. An invalid one followed by a valid signature of the same meaning was superseded
    by that later signed decision (e.g. a supplier re-qualified), and says so."""
    rec = commands.get(store, label, key)
    views = [_view(s, rec.props if rec else None) for s in _signatures(store, label, key)]
    # signatures of one step share their time (a recall's closure and its exception): meaning order
    views.sort(key=lambda v: (v.signed_at, MEANINGS.index(v.meaning) if v.meaning in MEANINGS else len(MEANINGS)))
    for i, v in enumerate(views):
        if v.valid or v.status == "record missing":
            continue
        later = next((w for w in views[i + 1:] if w.meaning == v.meaning and w.valid), None)
        if later is not None:
            v.status = (f"superseded by {later.id} ({later.manifestation}); changed since: "
                        f"{', '.join(v.changed_fields) or 'the record'}")
    return views


__all__ = [
    "MEANINGS", "VOLATILE_PROPS", "TwoPersonRule", "TWO_PERSON_RULES", "SignatureView", "content_hash", "manifest",
    "rules_for", "refuse_two_person_violation", "sign", "signature_status",
]
