"""The backup file format: one file, optionally encrypted, any changed byte detected.

    TRACEGRAPH-BACKUP 1\\n
    <header: canonical JSON, one line>\\n
    <payload: a tar archive, or its AES-256-GCM ciphertext>

Plain: the header carries the payload's SHA-256. Encrypted: AES-256-GCM with the header line as
associated data, so the tag covers header and payload. The key comes either from a passphrase
(scrypt, n=2^15, r=8, p=1, 16-byte salt) or from a recipient's X25519 public key (an ephemeral
X25519 key pair per backup; key = HKDF-SHA256 of the shared secret, bound to both public keys);
only the holder of the recipient's private key (`--identity`) can decrypt. Whole-payload GCM:
the payload is held in memory once (fine up to a few GiB; GCM's limit is 64 GiB).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tracegraph.engine.errors import ValidationFailed

MAGIC = b"TRACEGRAPH-BACKUP 1\n"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_HKDF_INFO = b"tracegraph-backup/1 x25519"


class BackupRefused(ValidationFailed):
    """A backup that cannot be read or does not check (altered, wrong key, incomplete)."""

    code = "backup_refused"


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"))


def _header_line(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"


def _scrypt(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase)


def _raw(pub: X25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _hkdf(shared: bytes, eph: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO + eph + recipient).derive(shared)


def load_recipient(pem: bytes) -> X25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise ValidationFailed(f"the recipient key is not a PEM public key: {exc}") from None
    if not isinstance(key, X25519PublicKey):
        raise ValidationFailed("the recipient key is not an X25519 public key",
                               hint="make one with `tracegraph backup keygen NAME`")
    return key


def load_identity(pem: bytes) -> X25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(f"the identity is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, X25519PrivateKey):
        raise ValidationFailed("the identity is not an X25519 private key")
    return key


def keygen(prefix: Path) -> tuple[Path, Path]:
    """A recipient key pair: `<prefix>.key` (private, 0600) and `<prefix>.pub` (give to the backup job)."""
    key = X25519PrivateKey.generate()
    priv = prefix.with_name(prefix.name + ".key")
    pub = prefix.with_name(prefix.name + ".pub")
    fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


def seal(payload: bytes, out: Path, *, passphrase: bytes | None = None, recipient: bytes | None = None) -> dict[str, Any]:
    """Write `payload` (a tar) as a backup file; returns the header written."""
    if passphrase is not None and recipient is not None:
        raise ValidationFailed("give a passphrase or a recipient key, not both")
    header: dict[str, Any] = {"payload": "tar", "bytes": len(payload)}
    key = None
    if passphrase is not None:
        if not passphrase:
            raise ValidationFailed("the passphrase is empty")
        salt, nonce = os.urandom(16), os.urandom(12)
        key = _scrypt(passphrase, salt)
        header["encryption"] = {"alg": "AES-256-GCM", "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                                "salt": _b64(salt), "nonce": _b64(nonce)}
    elif recipient is not None:
        rpub = load_recipient(recipient)
        eph = X25519PrivateKey.generate()
        nonce = os.urandom(12)
        key = _hkdf(eph.exchange(rpub), _raw(eph.public_key()), _raw(rpub))
        header["encryption"] = {"alg": "AES-256-GCM", "kdf": "x25519-hkdf-sha256",
                                "ephemeral": _b64(_raw(eph.public_key())),
                                "recipient": hashlib.sha256(_raw(rpub)).hexdigest()[:16], "nonce": _b64(nonce)}
    else:
        header["encryption"] = None
        header["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    line = _header_line(header)
    body = payload if key is None else AESGCM(key).encrypt(_unb64(header["encryption"]["nonce"]), payload, line)
    tmp = out.with_name(out.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(MAGIC + line)
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    return header


def read_header(path: Path) -> dict[str, Any]:
    with open(path, "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise BackupRefused(f"{path} is not a tracegraph backup (no {MAGIC[:-1].decode()} line)")
        line = fh.readline()
    try:
        header = json.loads(line)
    except ValueError:
        raise BackupRefused(f"{path}: the backup header is damaged") from None
    if not isinstance(header, dict) or header.get("payload") != "tar":
        raise BackupRefused(f"{path}: the backup header is damaged")
    return header


def unseal(path: Path, *, passphrase: bytes | None = None, identity: bytes | None = None) -> tuple[dict[str, Any], bytes]:
    """(header, payload) of a backup file, checked: a changed byte anywhere is refused."""
    header = read_header(path)
    data = path.read_bytes()
    line = data[len(MAGIC):data.index(b"\n", len(MAGIC)) + 1]
    if line != _header_line(header):
        raise BackupRefused(f"{path}: the backup header was altered (not in canonical form)")
    body = data[len(MAGIC) + len(line):]
    enc = header.get("encryption")
    if enc is None:
        if hashlib.sha256(body).hexdigest() != header.get("payload_sha256") or len(body) != header.get("bytes"):
            raise BackupRefused(f"{path}: the archive was altered or truncated (SHA-256 of the payload differs)")
        return header, body
    try:
        nonce = _unb64(enc["nonce"])
        if enc["kdf"] == "scrypt":
            if passphrase is None:
                raise BackupRefused(f"{path} is encrypted with a passphrase", hint="give --passphrase-file")
            key = Scrypt(salt=_unb64(enc["salt"]), length=32, n=int(enc["n"]), r=int(enc["r"]),
                         p=int(enc["p"])).derive(passphrase)
        elif enc["kdf"] == "x25519-hkdf-sha256":
            if identity is None:
                raise BackupRefused(f"{path} is encrypted to a recipient key ({enc.get('recipient')})",
                                    hint="give --identity with the recipient's private key")
            priv = load_identity(identity)
            eph = X25519PublicKey.from_public_bytes(_unb64(enc["ephemeral"]))
            key = _hkdf(priv.exchange(eph), _raw(eph), _raw(priv.public_key()))
        else:
            raise BackupRefused(f"{path}: unknown key derivation {enc['kdf']!r}")
    except (KeyError, ValueError, TypeError) as exc:
        raise BackupRefused(f"{path}: the encryption header is damaged ({exc})") from None
    try:
        payload = AESGCM(key).decrypt(nonce, body, line)
    except InvalidTag:
        raise BackupRefused(
            f"{path}: cannot decrypt: wrong passphrase or key, or the archive was altered",
            hint="check the passphrase file / identity; an altered archive cannot be repaired",
        ) from None
    return header, payload
