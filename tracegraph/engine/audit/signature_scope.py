"""What a signature binds, and whether it still does (21 CFR 11.70 signature/record linking).

A signature binds the content of the fields its meaning covers, defined per record label and
meaning as data in `rules/signature-scope.toml`. At signing, `bind()` stores on the Signature:

* `scope`: "fields" (the table's fields for label+meaning) or "record" (label/meaning not in the
  table: every business property present, as before the table existed);
* `covered_fields`: the field names;
* `field_hashes`: JSON {field: SHA-256 of RFC 8785 JSON of its value (null when absent)}: no copy
  of the data, yet verification can name the field that changed;
* `content_hash`: SHA-256 of RFC 8785 JSON of {label, meaning, field_hashes}: one value that
  seals the lot (shown, exported, and itself in the audit entry of the signing).

`check()` recomputes the hashes from the record as it is now. Later lifecycle steps that write
other fields leave the signature valid; a change to a covered field (or, with scope "record",
any field added or removed) makes it INVALID and names the field(s).

Signatures made before this scheme (no `scope` property, "legacy") are checked as they were
signed: the SHA-256 of the whole business content (`signatures.content_hash`); they can say
only that the record changed, not which field, and a later lifecycle step shows them invalid.
Nothing is rewritten: a signature is a record of what was signed, so the migration is
read-side only (docs/audit.md "Signature binding").
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from tracegraph.engine.audit.chain import canonical

#: properties every write touches; no signature covers them
VOLATILE_PROPS = frozenset({"updated_at", "updated_by", "locked_at", "locked_by"})

SCOPE_FILE = Path(__file__).resolve().parents[2] / "rules" / "signature-scope.toml"
#: bookkeeping, never content (kept in step with signatures.VOLATILE_PROPS)
VOLATILE = frozenset({"updated_at", "updated_by", "locked_at", "locked_by"})


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, tuple[str, ...]]]:
    """{label: {meaning: fields}} from rules/signature-scope.toml (with the `_all` fields added)."""
    with SCOPE_FILE.open("rb") as fh:
        raw = tomllib.load(fh)
    common = tuple(raw.pop("_all", {}).get("fields", []))
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for label, meanings in raw.items():
        out[label] = {m: tuple(dict.fromkeys([*common, *fs])) for m, fs in meanings.items()}
    return out


def covered_fields(label: str, meaning: str) -> tuple[str, ...] | None:
    """The fields a signature of `meaning` on a `label` binds; None: the whole record."""
    return table().get(label, {}).get(meaning)


def _value_hash(value: Any) -> str:
    return hashlib.sha256(canonical({"v": value})).hexdigest()


def _field_hashes(props: dict[str, Any], fields: tuple[str, ...] | list[str]) -> dict[str, str]:
    return {f: _value_hash(props.get(f)) for f in fields}


def _seal(label: str, meaning: str, hashes: dict[str, str]) -> str:
    return hashlib.sha256(canonical({"label": label, "meaning": meaning, "fields": hashes})).hexdigest()


def bind(label: str, meaning: str, props: dict[str, Any]) -> dict[str, Any]:
    """The Signature properties that bind it to `props` (the record as signed)."""
    fields = covered_fields(label, meaning)
    scope = "fields"
    if fields is None:
        scope = "record"
        fields = tuple(sorted(k for k, v in props.items() if k not in VOLATILE and v is not None))
    hashes = _field_hashes({k: v for k, v in props.items() if v is not None}, fields)
    return {"scope": scope, "covered_fields": list(fields), "field_hashes": json.dumps(hashes, sort_keys=True),
            "content_hash": _seal(label, meaning, hashes)}


@dataclass
class Binding:
    """Whether one signature still binds its record, and if not, why."""

    valid: bool
    status: str
    scope: str
    covered_fields: list[str] = field(default_factory=list)
    changed_fields: list[str] = field(default_factory=list)


def content_hash(label: str, props: dict[str, Any]) -> str:
    """SHA-256 of RFC 8785 JSON of {label, business properties} (VOLATILE_PROPS excluded)."""
    body = {"label": label, "props": {k: v for k, v in props.items() if k not in VOLATILE_PROPS}}
    return hashlib.sha256(canonical(body)).hexdigest()



def check(sig: dict[str, Any], current: dict[str, Any] | None) -> Binding:
    """Check one signature (its stored properties) against the record's current properties."""
    scope = str(sig.get("scope") or "legacy")
    covered = list(sig.get("covered_fields") or [])
    if current is None:
        return Binding(False, "record missing", scope, covered)
    if scope == "legacy":
        ok = sig.get("content_hash") == content_hash(str(sig.get("record_label")), current)
        return Binding(ok, "valid (legacy whole-record binding)" if ok else
                       "INVALID: the record changed after it was signed (legacy whole-record signature: "
                       "the changed field is not known)", scope)
    cur = {k: v for k, v in current.items() if v is not None}
    try:
        signed = json.loads(sig.get("field_hashes") or "{}")
    except ValueError:
        signed = {}
    now = _field_hashes(cur, covered)
    changed = [f for f in covered if signed.get(f) != now[f]]
    if scope == "record":
        extra = sorted(k for k in cur if k not in VOLATILE and k not in covered)
        changed += extra
    seal_ok = sig.get("content_hash") == _seal(str(sig.get("record_label")), str(sig.get("meaning")), signed)
    if not seal_ok:
        return Binding(False, "INVALID: the signature's own binding data was altered", scope, covered,
                       changed or ["field_hashes"])
    if changed:
        return Binding(False, f"INVALID: signed field(s) changed after signing: {', '.join(changed)}", scope,
                       covered, changed)
    return Binding(True, "valid", scope, covered)


__all__ = ["SCOPE_FILE", "table", "covered_fields", "bind", "check", "Binding"]
