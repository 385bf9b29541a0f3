"""RFC 6962 Merkle tree, signed checkpoints, inclusion/consistency proofs checked offline."""

from __future__ import annotations

import copy
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tracegraph.engine import commands
from tracegraph.engine.audit import checkpoints as cp
from tracegraph.engine.audit import merkle
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import PermissionDenied

QA = Actor("qa.mgr", "Mia Manager", frozenset({"qa_manager"}))


def _mth(leaves: list[bytes]) -> bytes:
    """The RFC's recursive definition, as a reference."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(hashlib.sha256(str(i).encode()).hexdigest()) for i in range(n)]


def test_rfc6962_known_vector() -> None:
    # RFC 6962 trees over raw leaf data: MTH of the empty tree and one leaf
    assert merkle.empty_root().hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root([hashlib.sha256(b"\x00").digest()]) == hashlib.sha256(b"\x00").digest()


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33])
def test_root_and_proofs_match_the_rfc_definitions(n: int) -> None:
    leaves = _leaves(n)
    root = merkle.root(leaves)
    assert root == _mth(leaves)
    for i in range(n):
        path = merkle.inclusion_path(i, leaves)
        assert merkle.verify_inclusion(i, n, leaves[i], path, root)
        assert not merkle.verify_inclusion(i, n, hashlib.sha256(b"forged").digest(), path, root)
        if path:
            bad = list(path)
            bad[0] = hashlib.sha256(b"x").digest()
            assert not merkle.verify_inclusion(i, n, leaves[i], bad, root)
    for m in range(1, n + 1):
        path = merkle.consistency_path(m, leaves)
        old = merkle.root(leaves[:m])
        assert merkle.verify_consistency(m, n, old, root, path)
        if m < n:
            forged = merkle.root(_leaves(m + 1)[1:])  # a different history of size m
            assert not merkle.verify_consistency(m, n, forged, root, path)


@pytest.fixture(scope="module")
def log(store: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("data")
    for i in range(9):
        commands.create(store, "Batch", f"B-{i}", {"qty": float(i)}, QA)
    first = cp.create_checkpoint(store, data_dir, QA)
    for i in range(9, 14):
        commands.create(store, "Batch", f"B-{i}", {"qty": float(i)}, QA)
    second = cp.create_checkpoint(store, data_dir, QA)
    return {"store": store, "dir": data_dir, "first": first, "second": second, "pub": cp.public_key_pem(data_dir)}


@pytest.mark.req("REQ-AUD-005")
def test_key_is_private_and_outside_the_graph(log: dict[str, Any]) -> None:
    key = Path(log["dir"]) / "keys" / cp.PRIVATE_KEY_FILE
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key.parent).st_mode) == 0o700
    pem = key.read_text()
    rows = log["store"].run("MATCH (n) WHERE any(k IN keys(n) WHERE toString(n[k]) CONTAINS 'PRIVATE KEY') "
                            "RETURN count(n) AS c", write=False)
    assert rows[0]["c"] == 0 and "PRIVATE KEY" in pem
    assert cp.ensure_signing_key(log["dir"]) == key  # not regenerated


@pytest.mark.req("REQ-AUD-005")
def test_checkpoints_are_signed_and_stored(log: dict[str, Any]) -> None:
    first, second = log["first"], log["second"]
    assert first.size == 9 and second.size == 15  # 9 creates + checkpoint entry + 5 creates
    pub = cp.load_public_key(log["pub"])
    assert cp.check_checkpoint_signature(second.model_dump(), pub)
    forged = {**second.model_dump(), "root": "00" * 32}
    assert not cp.check_checkpoint_signature(forged, pub)
    listed = cp.list_checkpoints(log["store"])
    assert [c.size for c in listed] == [15, 9]


@pytest.mark.req("REQ-AUD-005")
def test_inclusion_proof_verifies_offline(log: dict[str, Any]) -> None:
    for seq in (1, 5, 9):
        proof = cp.inclusion_proof(log["store"], seq)
        assert proof["tree_size"] == 9
        assert cp.verify_proof(proof, log["pub"]).ok
    proof = cp.inclusion_proof(log["store"], 12)
    assert proof["tree_size"] == 15
    res = cp.verify_proof(proof, log["pub"])
    assert res.ok and res.seq == 12


@pytest.mark.req("REQ-AUD-005")
def test_consistency_proof_verifies_offline(log: dict[str, Any]) -> None:
    proof = cp.consistency_proof(log["store"], 9, 15)
    assert proof["first"]["signature"]
    assert cp.verify_proof(proof, log["pub"]).ok
    unsigned = cp.consistency_proof(log["store"], 4)
    res = cp.verify_proof(unsigned, log["pub"])
    assert res.ok and "unsigned" in res.message


def _mutations(proof: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, fn in [
        ("entry field", lambda p: p["entry"].__setitem__("reason", "rewritten")),
        ("entry hash", lambda p: p["entry"].__setitem__("hash", "ab" * 32)),
        ("path", lambda p: p["path"].__setitem__(0, "cd" * 32)),
        ("path dropped", lambda p: p["path"].pop()),
        ("leaf index", lambda p: p.__setitem__("leaf_index", p["leaf_index"] + 1)),
        ("root", lambda p: p["checkpoint"].__setitem__("root", "ef" * 32)),
        ("size", lambda p: p["checkpoint"].__setitem__("size", p["checkpoint"]["size"] + 1)),
        ("signature", lambda p: p["checkpoint"].__setitem__("signature", p["checkpoint"]["signature"][::-1])),
        ("format", lambda p: p.__setitem__("format", "other")),
    ]:
        q = copy.deepcopy(proof)
        fn(q)
        out.append((name, q))
    return out


@pytest.mark.req("REQ-AUD-005")
def test_forged_inclusion_proofs_are_rejected(log: dict[str, Any]) -> None:
    proof = cp.inclusion_proof(log["store"], 5)
    for name, forged in _mutations(proof):
        assert not cp.verify_proof(forged, log["pub"]).ok, name


def test_forged_consistency_proof_is_rejected(log: dict[str, Any]) -> None:
    proof = cp.consistency_proof(log["store"], 9, 15)
    bad = copy.deepcopy(proof)
    bad["first"]["root"] = "11" * 32
    assert not cp.verify_proof(bad, log["pub"]).ok
    bad = copy.deepcopy(proof)
    bad["path"][0] = "22" * 32
    assert not cp.verify_proof(bad, log["pub"]).ok


@pytest.mark.req("REQ-AUD-005")
def test_wrong_key_is_rejected(log: dict[str, Any]) -> None:
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert not cp.verify_proof(cp.inclusion_proof(log["store"], 3), other).ok
    assert not cp.verify_proof(cp.consistency_proof(log["store"], 9, 15), other).ok


def test_checkpoint_needs_permission(log: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        cp.create_checkpoint(log["store"], log["dir"], Actor("v", "Viewer", frozenset({"viewer"})))


def test_checkpoint_refuses_a_tampered_log(log: dict[str, Any]) -> None:
    from tracegraph.engine.errors import IntegrityError

    s = log["store"]
    commands.create(s, "Batch", "B-x", {"qty": 1.0}, QA)
    s.run("MATCH (e:AuditEntry) WHERE e.seq = 16 SET e.reason = 'edited'")
    try:
        with pytest.raises(IntegrityError):
            cp.create_checkpoint(s, log["dir"], QA)
    finally:
        s.run("MATCH (e:AuditEntry) WHERE e.seq = 16 SET e.reason = ''")
    assert cp.create_checkpoint(s, log["dir"], QA).size == s.read("audit.head")[0]["seq"] - 1


def test_incremental_verify_starts_from_a_checkpoint(log: dict[str, Any]) -> None:
    from tracegraph.engine.audit.verify import verify

    r = verify(log["store"], from_seq=log["first"].size + 1)
    assert r.ok and r.trusted_start == f"checkpoint {log['first'].id}"
    bad = verify(log["store"], from_seq=log["first"].size + 1, trusted_hash="ab" * 32)
    assert not bad.ok and bad.first_error.seq == log["first"].size + 1  # type: ignore[union-attr]
