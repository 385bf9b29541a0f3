"""Signed checkpoints of the audit log and the proofs an auditor checks OFFLINE.

A checkpoint signs, with an Ed25519 key kept in the data folder (never in the graph):

    RFC 8785 JSON of {"log": "tracegraph-audit", "size", "head_hash", "root", "ts", "key_id"}

where `root` is the RFC 6962 Merkle root (engine/audit/merkle.py) of the first `size` entries and
`head_hash` the hash of entry `size`. Checkpoints are stored as `Checkpoint` nodes through an
audited write. From a checkpoint we prove that one entry is in the log (inclusion) and that an
older checkpoint's log is a prefix of a newer one (consistency); `verify_proof` checks either
with only the proof JSON and the public key: no database.

Key files: `<data_dir>/keys/audit_ed25519.pem` (PKCS#8, mode 0600, folder 0700) and
`<data_dir>/keys/audit_ed25519.pub.pem` (give this to auditors).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel

from tracegraph.engine.access.permissions import require
from tracegraph.engine.audit import merkle
from tracegraph.engine.audit.chain import (
    ENTRY_FIELDS,
    Actor,
    AuditSpec,
    Change,
    audited_write,
    canonical,
    entry_hash,
    head,
)
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import ConfigurationError, IntegrityError, NotFound, ValidationFailed
from tracegraph.engine.stores.base import GraphStore

LOG_ID = "tracegraph-audit"
PROOF_FORMAT = "tracegraph-audit-proof/1"
PRIVATE_KEY_FILE = "audit_ed25519.pem"
PUBLIC_KEY_FILE = "audit_ed25519.pub.pem"
SIGNED_FIELDS = ("size", "head_hash", "root", "ts", "key_id")
_PAGE = 50_000


class CheckpointView(BaseModel):
    id: str
    size: int
    head_hash: str
    root: str
    ts: str
    key_id: str
    signature: str
    created_by: str = ""

    def signed(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in SIGNED_FIELDS}


class ProofCheck(BaseModel):
    ok: bool
    type: str
    message: str
    seq: int | None = None
    tree_size: int | None = None


# ------------------------------------------------------------------------------------------
# keys
# ------------------------------------------------------------------------------------------
def key_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "keys"


def ensure_signing_key(data_dir: str | Path) -> Path:
    """Create the checkpoint signing key if missing (0600, in a 0700 folder); return its path."""
    d = key_dir(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    priv = d / PRIVATE_KEY_FILE
    if priv.exists():
        return priv
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    (d / PUBLIC_KEY_FILE).write_bytes(_public_pem(key.public_key()))
    return priv


def _public_pem(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _load_private(data_dir: str | Path) -> Ed25519PrivateKey:
    path = key_dir(data_dir) / PRIVATE_KEY_FILE
    if not path.exists():
        raise ConfigurationError(f"no checkpoint signing key at {path}",
                                 hint="run `tracegraph users init` or `tracegraph audit checkpoint` to create one")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 private key")
    return key


def public_key_pem(data_dir: str | Path) -> str:
    """The PEM public key auditors use with `tracegraph audit verify-proof`."""
    return _public_pem(_load_private(data_dir).public_key()).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except ValueError as exc:
        raise ValidationFailed(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValidationFailed("the public key is not an Ed25519 key")
    return key


def key_id(pub: Ed25519PublicKey) -> str:
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signed_message(fields: dict[str, Any]) -> bytes:
    return canonical({"log": LOG_ID, **{k: fields[k] for k in SIGNED_FIELDS}})


def check_checkpoint_signature(cp: dict[str, Any], pub: Ed25519PublicKey) -> bool:
    try:
        if cp.get("key_id") != key_id(pub):
            return False
        pub.verify(base64.b64decode(cp["signature"]), signed_message(cp))
        return True
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False


# ------------------------------------------------------------------------------------------
# leaves
# ------------------------------------------------------------------------------------------
def entry_hashes(store: GraphStore, size: int) -> list[str]:
    """Stored hashes of entries 1..size in order; raises IntegrityError on a gap."""
    from tracegraph.engine.audit.verify import int_rows

    out: list[str] = []
    after = 0
    while after < size:
        hi = min(after + _PAGE, size)
        for seq, h in int_rows(store, "audit.hashes", {"after": after, "upto": hi}):
            if seq != len(out) + 1 or not isinstance(h, str):
                raise IntegrityError(f"audit entry {len(out) + 1} is missing or malformed",
                                     hint="run `tracegraph audit verify`")
            out.append(h)
        after = hi
    if len(out) != size:
        raise IntegrityError(f"expected {size} audit entries, found {len(out)}", hint="run `tracegraph audit verify`")
    return out


def _leaves(hashes: list[str]) -> list[bytes]:
    return [merkle.leaf_hash(h) for h in hashes]


# ------------------------------------------------------------------------------------------
# checkpoints
# ------------------------------------------------------------------------------------------
def create_checkpoint(
    store: GraphStore, data_dir: str | Path, actor: Actor, *, clock: Clock | None = None, verify_first: bool = True
) -> CheckpointView:
    """Verify the chain since the last checkpoint, then sign and store a checkpoint of it."""
    require(actor, "audit.checkpoint")
    clock = clock or SystemClock()
    ensure_signing_key(data_dir)
    key = _load_private(data_dir)
    kid = key_id(key.public_key())
    if verify_first:
        from tracegraph.engine.audit.verify import verify_or_raise

        last = latest_checkpoint(store)
        if last is None:
            verify_or_raise(store, check_state=False)
        else:
            verify_or_raise(store, from_seq=last.size + 1, trusted_hash=last.head_hash, check_state=False)
    hashes: list[str] = []
    made: dict[str, Any] = {}

    def prepare() -> tuple[dict[str, Any], AuditSpec]:
        h = head(store)
        size = int(h["seq"])
        if size > len(hashes):
            hashes.extend(entry_hashes(store, size)[len(hashes):])
        del hashes[size:]
        if size == 0:
            raise ValidationFailed("the audit log is empty: nothing to checkpoint")
        fields = {"size": size, "head_hash": hashes[-1], "root": merkle.root(_leaves(hashes)).hex(),
                  "ts": iso(clock.now()), "key_id": kid}
        if fields["head_hash"] != h["hash"]:
            raise IntegrityError(f"the AuditHead hash differs from entry {size}", hint="run `tracegraph audit verify`")
        sig = base64.b64encode(key.sign(signed_message(fields))).decode()
        props: dict[str, Any] = {**fields, "id": f"CP-{size:012d}", "signature": sig, "created_by": actor.id,
                 "created_at": fields["ts"], "source": actor.id}
        made.clear()
        made.update(props)
        changes = [Change(k, None, props[k]) for k in ("size", "head_hash", "root", "ts", "key_id", "signature")]
        return {"props": props}, AuditSpec("checkpoint", "Checkpoint", props["id"], changes)

    audited_write(store, "audit.checkpoint_create", prepare, actor, clock=clock)
    return CheckpointView(**made)


def _view(props: dict[str, Any]) -> CheckpointView:
    return CheckpointView(**{k: props.get(k) for k in CheckpointView.model_fields if k in props})


def list_checkpoints(store: GraphStore, limit: int = 100) -> list[CheckpointView]:
    return [_view(r["c"]) for r in store.read("audit.checkpoints", limit=limit)]


def latest_checkpoint(store: GraphStore) -> CheckpointView | None:
    rows = list_checkpoints(store, limit=1)
    return rows[0] if rows else None


def checkpoint_of_size(store: GraphStore, size: int) -> CheckpointView | None:
    rows = store.read("audit.checkpoint_by_size", size=size)
    return _view(rows[0]["c"]) if rows else None


# ------------------------------------------------------------------------------------------
# proofs
# ------------------------------------------------------------------------------------------
def inclusion_proof(store: GraphStore, seq: int, *, size: int | None = None, as_actor: Actor | None = None) -> dict[str, Any]:
    """Proof that entry `seq` is in the log of a signed checkpoint (the smallest covering it,
    or the one of `size`)."""
    if as_actor is not None:
        require(as_actor, "audit.read")
    if size is not None:
        cp = checkpoint_of_size(store, size)
    else:
        rows = store.read("audit.checkpoint_covering", seq=seq)
        cp = _view(rows[0]["c"]) if rows else None
    if cp is None:
        raise NotFound(f"no signed checkpoint covers entry {seq}", hint="run `tracegraph audit checkpoint` first")
    rows = store.read("audit.entry", seq=seq)
    if not rows:
        raise NotFound(f"audit entry {seq} does not exist")
    entry = {k: rows[0]["e"].get(k) for k in (*ENTRY_FIELDS, "hash")}
    hashes = entry_hashes(store, cp.size)
    leaves = _leaves(hashes)
    if merkle.root(leaves).hex() != cp.root:
        raise IntegrityError(f"the stored log no longer matches checkpoint {cp.id}",
                             hint="the audit trail was changed after it was checkpointed; run `tracegraph audit verify`")
    return {
        "format": PROOF_FORMAT,
        "type": "inclusion",
        "entry": entry,
        "leaf_index": seq - 1,
        "tree_size": cp.size,
        "path": [p.hex() for p in merkle.inclusion_path(seq - 1, leaves)],
        "checkpoint": {**cp.signed(), "id": cp.id, "signature": cp.signature},
    }


def consistency_proof(
    store: GraphStore, first: int, second: int | None = None, *, as_actor: Actor | None = None
) -> dict[str, Any]:
    """Proof that the log at size `first` is a prefix of the log at checkpoint size `second`
    (default: the latest checkpoint)."""
    if as_actor is not None:
        require(as_actor, "audit.read")
    cp2 = checkpoint_of_size(store, second) if second is not None else latest_checkpoint(store)
    if cp2 is None:
        raise NotFound(f"no signed checkpoint of size {second}" if second else "no checkpoint yet",
                       hint="list them with `tracegraph audit checkpoints`")
    if not 0 < first <= cp2.size:
        raise ValidationFailed(f"--from must be between 1 and {cp2.size}")
    leaves = _leaves(entry_hashes(store, cp2.size))
    if merkle.root(leaves).hex() != cp2.root:
        raise IntegrityError(f"the stored log no longer matches checkpoint {cp2.id}", hint="run `tracegraph audit verify`")
    cp1 = checkpoint_of_size(store, first)
    first_info: dict[str, Any] = (
        {**cp1.signed(), "id": cp1.id, "signature": cp1.signature} if cp1
        else {"size": first, "root": merkle.root(leaves[:first]).hex(), "head_hash": None}
    )
    return {
        "format": PROOF_FORMAT,
        "type": "consistency",
        "first": first_info,
        "second": {**cp2.signed(), "id": cp2.id, "signature": cp2.signature},
        "path": [p.hex() for p in merkle.consistency_path(first, leaves)],
    }


def verify_proof(proof: dict[str, Any], public_key: str | bytes) -> ProofCheck:
    """Check a proof OFFLINE: no database, only the proof and the log's public key."""
    pub = load_public_key(public_key)
    kind = str(proof.get("type"))
    try:
        if proof.get("format") != PROOF_FORMAT:
            return ProofCheck(ok=False, type=kind, message=f"unknown proof format {proof.get('format')!r}")
        path = [bytes.fromhex(p) for p in proof["path"]]
        if kind == "inclusion":
            return _verify_inclusion(proof, path, pub)
        if kind == "consistency":
            return _verify_consistency(proof, path, pub)
    except (KeyError, TypeError, ValueError) as exc:
        return ProofCheck(ok=False, type=kind, message=f"malformed proof: {exc!r}")
    return ProofCheck(ok=False, type=kind, message=f"unknown proof type {kind!r}")


def _verify_inclusion(proof: dict[str, Any], path: list[bytes], pub: Ed25519PublicKey) -> ProofCheck:
    cp, entry = proof["checkpoint"], proof["entry"]
    seq, size = int(entry["seq"]), int(proof["tree_size"])
    fail: Callable[[str], ProofCheck] = lambda msg: ProofCheck(ok=False, type="inclusion", message=msg, seq=seq, tree_size=size)
    if not check_checkpoint_signature(cp, pub):
        return fail("the checkpoint signature does not verify with this public key")
    if int(cp["size"]) != size or int(proof["leaf_index"]) != seq - 1:
        return fail("the proof's tree size or leaf index does not match the checkpoint / entry")
    if entry_hash(entry) != entry["hash"]:
        return fail(f"entry {seq}'s fields do not match its hash (the entry was altered)")
    if seq == size and entry["hash"] != cp["head_hash"]:
        return fail("the entry is the checkpoint's last one but its hash differs from the head hash")
    if not merkle.verify_inclusion(seq - 1, size, merkle.leaf_hash(entry["hash"]), path, bytes.fromhex(cp["root"])):
        return fail("the audit path does not lead to the signed Merkle root")
    return ProofCheck(ok=True, type="inclusion", seq=seq, tree_size=size,
                      message=f"entry {seq} is included in the log of size {size} signed at {cp['ts']} (key {cp['key_id']})")


def _verify_consistency(proof: dict[str, Any], path: list[bytes], pub: Ed25519PublicKey) -> ProofCheck:
    first, second = proof["first"], proof["second"]
    m, n = int(first["size"]), int(second["size"])
    fail: Callable[[str], ProofCheck] = lambda msg: ProofCheck(ok=False, type="consistency", message=msg, tree_size=n)
    if not check_checkpoint_signature(second, pub):
        return fail("the newer checkpoint's signature does not verify with this public key")
    first_signed = "signature" in first
    if first_signed and not check_checkpoint_signature(first, pub):
        return fail("the older checkpoint's signature does not verify with this public key")
    if not merkle.verify_consistency(m, n, bytes.fromhex(first["root"]), bytes.fromhex(second["root"]), path):
        return fail(f"the log of size {m} is NOT a prefix of the signed log of size {n}")
    note = "" if first_signed else f" (the size-{m} root {first['root'][:16]}... is unsigned: compare it with your saved copy)"
    return ProofCheck(ok=True, type="consistency", tree_size=n,
                      message=f"the log of size {m} is a prefix of the log of size {n} signed at {second['ts']}{note}")


__all__ = [
    "CheckpointView", "ProofCheck", "ensure_signing_key", "public_key_pem", "load_public_key", "key_id",
    "signed_message", "check_checkpoint_signature", "entry_hashes", "create_checkpoint", "list_checkpoints",
    "latest_checkpoint", "checkpoint_of_size", "inclusion_proof", "consistency_proof", "verify_proof",
]
