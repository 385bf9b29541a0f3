"""RFC 6962 / RFC 9162 Merkle tree over the audit entries, as Certificate Transparency does it.

    leaf i  = SHA-256(0x00 || bytes of entry (i+1)'s hash)      (entry seq = leaf index + 1)
    node    = SHA-256(0x01 || left || right)
    MTH(D[n]) splits at k = the largest power of two smaller than n.

Proof generation follows the RFC's PATH and PROOF definitions; verification follows RFC 9162
sections 2.1.3.2 (inclusion) and 2.1.4.2 (consistency). Pure functions, no database: an
auditor can check a proof offline with only this module and a public key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_sha256 = hashlib.sha256


def leaf_hash(entry_hash_hex: str) -> bytes:
    """The Merkle leaf of one audit entry, from its (hex) entry hash."""
    return _sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def empty_root() -> bytes:
    """MTH({}) = SHA-256 of the empty string."""
    return _sha256(b"").digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes. Level by level: a lone last node moves up unchanged,
    which builds exactly the RFC's left-balanced tree (split at the largest power of two)."""
    if not leaves:
        return empty_root()
    level = list(leaves)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf `index` (0-based) in the tree of `leaves`."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of size {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_path(index, leaves[:k]) + [root(leaves[k:])]
    return inclusion_path(index - k, leaves[k:]) + [root(leaves[:k])]


def consistency_path(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): proves the tree of the first `first` leaves is a prefix of `leaves`."""
    n = len(leaves)
    if not 0 < first <= n:
        raise ValueError(f"first size {first} must be between 1 and {n}")
    return _subproof(first, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves[:k], complete) + [root(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [root(leaves[:k])]


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does `path` prove leaf `index` is in the tree of `size` with `expected_root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: does `path` prove the tree of size `first` is a prefix of `second`?"""
    if first <= 0 or first > second:
        return False
    if first == second:
        return len(path) == 0 and first_root == second_root
    proof = list(path)
    if first & (first - 1) == 0:  # exact power of two: the first root is a node of the tree
        proof = [first_root] + proof
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


__all__ = [
    "leaf_hash", "node_hash", "empty_root", "root", "inclusion_path", "consistency_path",
    "verify_inclusion", "verify_consistency",
]
