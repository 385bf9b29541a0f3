"""Backup and restore (engine/ops): a backup taken while 8 writers run restores into a fresh
folder as exactly the graph of its audit head, and verifies; a quiescent backup restores
identical; altered archives, edited manifests and wrong keys are refused; restore refuses a live
or non-empty folder; encrypted round trips (passphrase, X25519 recipient); data folder modes."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracegraph.engine import commands
from tracegraph.engine.audit import checkpoints
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import Conflict
from tracegraph.engine.imports.runner import run_import
from tracegraph.engine.ops import archive
from tracegraph.engine.ops.archive import BackupRefused
from tracegraph.engine.ops.backup import restore_backup, take_backup, verify_backup
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.engine.stores.server import EmbeddedServer
from tracegraph.loaders.bundle import load_bundle

FIXTURE = Path(__file__).parent / "fixtures" / "bundle_small"
QA = Actor("qa.lead", "Quinn Lead", frozenset({"qa_manager"}))
IMPORTER = Actor(id="u-ops", name="Olga Ops", roles=frozenset({"importer"}))
GRAPH = "tracegraph"


def dump(store: FalkorDBStore) -> dict[str, Any]:
    """Canonical dump: every node (labels, all properties) and edge (type, end keys, properties)."""
    def key(p: dict[str, Any]) -> str:
        return str(p.get("id", p.get("seq")))

    nodes = sorted(json.dumps([r["l"], r["p"]], sort_keys=True, default=str)
                   for r in store.run("MATCH (n) RETURN labels(n) AS l, properties(n) AS p", write=False))
    edges = sorted(json.dumps([r["t"], r["a"]["l"], key(r["a"]["p"]), r["b"]["l"], key(r["b"]["p"]), r["p"]],
                              sort_keys=True, default=str)
                   for r in store.run("MATCH (a)-[e]->(b) RETURN type(e) AS t, {l: labels(a), p: properties(a)} AS a, "
                                      "{l: labels(b), p: properties(b)} AS b, properties(e) AS p", write=False))
    return {"nodes": nodes, "edges": edges}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, FalkorDBStore]]:
    data = tmp_path_factory.mktemp("src") / "data"
    server = EmbeddedServer(data, appendfsync="everysec")
    server.ensure_running()
    store = FalkorDBStore(unix_socket_path=str(server.socket_path), graph=GRAPH, server=server)
    store.apply_schema()
    checkpoints.ensure_signing_key(data)
    b = load_bundle(FIXTURE)
    run_import(store, b.batch, IMPORTER, source_files=b.files)
    yield data, store
    store.close()
    server.stop()


def _open_restored(data: Path) -> tuple[EmbeddedServer, FalkorDBStore]:
    server = EmbeddedServer(data)
    return server, FalkorDBStore(unix_socket_path=str(server.socket_path), graph=GRAPH, server=server)


@pytest.mark.req("REQ-DAT-007")
def test_backup_under_8_writers_restores_the_graph_of_its_head(source: tuple[Path, FalkorDBStore],
                                                               tmp_path: Path) -> None:
    data, store = source
    stop = threading.Event()
    acked: list[tuple[float, str, int]] = []  # (time acknowledged, key, audit seq)
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        s = FalkorDBStore(unix_socket_path=str(store.server.socket_path), graph=GRAPH)  # type: ignore[union-attr]
        i = 0
        try:
            while not stop.is_set():
                rec = commands.create(s, "Batch", f"W{t}-{i:04d}", {"product_id": "P-1", "qty": float(i)}, QA)
                acked.append((time.monotonic(), f"W{t}-{i:04d}", int(rec.audit_seq or 0)))
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    time.sleep(0.5)
    started = time.monotonic()
    rep = take_backup(store, data, tmp_path / "live.tgbk")
    time.sleep(0.3)
    stop.set()
    for th in threads:
        th.join(30)
    assert not errors, errors
    head = rep.audit_head["seq"]
    before = [a for a in acked if a[0] < started]
    after_head = [a for a in acked if a[2] > head]
    assert before and after_head, "writers must run before and after the snapshot"
    assert all(a[2] <= head for a in before), "a write acknowledged before the backup began is missing"

    check = verify_backup(tmp_path / "live.tgbk")
    assert check.ok, check.problems
    out = restore_backup(tmp_path / "live.tgbk", tmp_path / "restored")
    assert out.ok and out.audit.ok and out.audit_head == rep.audit_head
    _, restored = _open_restored(tmp_path / "restored")
    try:
        got = dump(restored)
        # the source as of the backup's head: drop what the writers added after it
        later_keys = {a[1] for a in after_head}
        want = dump(store)
        def keep_node(n: str) -> bool:
            labels, props = json.loads(n)
            if labels == ["AuditHead"]:
                return False
            if labels == ["AuditEntry"]:
                return int(props["seq"]) <= head
            return not (labels == ["Batch"] and props["id"] in later_keys)
        def keep_edge(e: str) -> bool:
            _, la, ka, lb, kb, _ = json.loads(e)
            for lab, k in ((la, ka), (lb, kb)):
                if lab == ["AuditEntry"] and int(k) > head:
                    return False
                if lab == ["Batch"] and k in later_keys:
                    return False
            return True
        assert [n for n in got["nodes"] if json.loads(n)[0] != ["AuditHead"]] == [n for n in want["nodes"] if keep_node(n)]
        assert got["edges"] == [e for e in want["edges"] if keep_edge(e)]
        assert restored.read("audit.head")[0]["seq"] == head
    finally:
        restored.close()
        EmbeddedServer(tmp_path / "restored").stop()


def test_quiescent_backup_restores_identical_and_keeps_keys(source: tuple[Path, FalkorDBStore],
                                                            tmp_path: Path) -> None:
    data, store = source
    rep = take_backup(store, data, tmp_path / "q.tgbk")
    out = restore_backup(tmp_path / "q.tgbk", tmp_path / "r")
    server, restored = _open_restored(tmp_path / "r")
    try:
        assert out.ok
        assert dump(restored) == dump(store)
        key = tmp_path / "r" / "keys" / checkpoints.PRIVATE_KEY_FILE
        assert key.read_bytes() == (data / "keys" / checkpoints.PRIVATE_KEY_FILE).read_bytes()
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "r" / "keys").stat().st_mode) == 0o700
        assert rep.audit_head == out.audit_head
    finally:
        restored.close()
        server.stop()


def _members(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    _, payload = archive.unseal(path)
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    return json.loads(members.pop("manifest.json")), members


def _repack(members: dict[str, bytes], manifest: dict[str, Any], out: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in [("manifest.json", json.dumps(manifest).encode()), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive.seal(buf.getvalue(), out)


@pytest.mark.req("REQ-DAT-007")
def test_tampered_backups_are_refused(source: tuple[Path, FalkorDBStore], tmp_path: Path) -> None:
    data, store = source
    good = tmp_path / "good.tgbk"
    take_backup(store, data, good)
    raw = bytearray(good.read_bytes())
    for at in (len(raw) // 2, len(raw) - 10, len(archive.MAGIC) + 5):  # payload middle, tail, header
        flipped = tmp_path / f"flip{at}.tgbk"
        b = bytearray(raw)
        b[at] ^= 0x01
        flipped.write_bytes(bytes(b))
        with pytest.raises(BackupRefused):
            verify_backup(flipped)
        with pytest.raises(BackupRefused):
            restore_backup(flipped, tmp_path / f"never{at}")
    manifest, members = _members(good)
    # an edited manifest (a claimed head), re-sealed so the outer hash matches: the signature and the
    # snapshot's real head both disagree
    edited = json.loads(json.dumps(manifest))
    edited["audit_head"]["seq"] += 1
    _repack(members, edited, tmp_path / "edited.tgbk")
    check = verify_backup(tmp_path / "edited.tgbk")
    assert not check.ok
    assert any("signature" in p for p in check.problems) and any("audit head" in p for p in check.problems), check.problems
    with pytest.raises(BackupRefused):
        restore_backup(tmp_path / "edited.tgbk", tmp_path / "never")
    # a changed file whose manifest hash was not updated
    members2 = dict(members)
    members2["settings.json"] = b"{\"appendfsync\": \"no\"}"
    _repack(members2, manifest, tmp_path / "swapped.tgbk")
    check = verify_backup(tmp_path / "swapped.tgbk", load=False)
    assert not check.ok and any("settings.json: SHA-256 differs" in p for p in check.problems)
    # the untouched one passes, also against the auditor's trusted public key
    pub = (data / "keys" / checkpoints.PUBLIC_KEY_FILE).read_bytes()
    assert verify_backup(good, public_key=pub).ok


@pytest.mark.req("REQ-DAT-007")
def test_restore_refuses_a_live_or_non_empty_folder(source: tuple[Path, FalkorDBStore], tmp_path: Path) -> None:
    data, store = source
    bk = tmp_path / "b.tgbk"
    take_backup(store, data, bk)
    with pytest.raises(Conflict, match="running"):
        restore_backup(bk, data, force=True)  # never over a live database, even with --force
    full = tmp_path / "full"
    full.mkdir()
    (full / "something.txt").write_text("keep me")
    with pytest.raises(Conflict, match="not empty"):
        restore_backup(bk, full)
    out = restore_backup(bk, full, force=True)
    try:
        assert out.ok and out.moved_aside and (Path(out.moved_aside) / "something.txt").read_text() == "keep me"
    finally:
        EmbeddedServer(full).stop()


@pytest.mark.req("REQ-DAT-007")
def test_encrypted_round_trips_and_wrong_keys(source: tuple[Path, FalkorDBStore], tmp_path: Path) -> None:
    data, store = source
    enc = tmp_path / "enc.tgbk"
    take_backup(store, data, enc, passphrase=b"correct horse battery staple")
    assert b"AuditEntry" not in enc.read_bytes()  # the contents are not readable
    assert verify_backup(enc, passphrase=b"correct horse battery staple", load=False).ok
    for wrong in (b"correct horse battery stapler", None):
        with pytest.raises(BackupRefused):
            verify_backup(enc, passphrase=wrong)
    priv, pub = archive.keygen(tmp_path / "recipient")
    other, _ = archive.keygen(tmp_path / "other")
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    sealed = tmp_path / "to-recipient.tgbk"
    take_backup(store, data, sealed, recipient=pub.read_bytes())
    with pytest.raises(BackupRefused):
        verify_backup(sealed, identity=other.read_bytes())
    out = restore_backup(sealed, tmp_path / "r", identity=priv.read_bytes())
    server, restored = _open_restored(tmp_path / "r")
    try:
        assert out.ok and dump(restored) == dump(store)
    finally:
        restored.close()
        server.stop()
    out = restore_backup(enc, tmp_path / "r2", passphrase=b"correct horse battery staple")
    EmbeddedServer(tmp_path / "r2").stop()
    assert out.ok


def test_data_folder_modes_are_tightened_at_start(tmp_path: Path) -> None:
    data = tmp_path / "d"
    (data / "keys").mkdir(parents=True)
    (data / "keys" / "secret.pem").write_text("x")
    os.chmod(data / "keys" / "secret.pem", 0o644)
    os.chmod(data / "keys", 0o755)
    os.chmod(data, 0o755)
    server = EmbeddedServer(data, appendfsync="no")
    try:
        server.ensure_running()
        fixed = "\n".join(server.modes_fixed)
        assert "secret.pem: mode 0644" in fixed and "keys: mode 0755" in fixed
        assert stat.S_IMODE((data / "keys" / "secret.pem").stat().st_mode) == 0o600
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        for p in data.rglob("*"):  # what the server itself wrote is owner-only too
            if p.is_file():
                assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p
        server.stop()
        server.ensure_running()
        assert server.modes_fixed == []  # nothing to fix the second time
    finally:
        server.stop()


def test_cli_backup_verify_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The doors: `tracegraph backup OUT` (no subcommand name), `backup verify`, `restore`, exit codes."""
    from typer.testing import CliRunner

    from tracegraph.cli import app

    data = tmp_path / "data"
    monkeypatch.setenv("TRACEGRAPH_DATA_DIR", str(data))
    monkeypatch.setenv("TRACEGRAPH_APPENDFSYNC", "everysec")
    monkeypatch.delenv("TRACEGRAPH_DATABASE_URL", raising=False)
    runner = CliRunner()
    pw = tmp_path / "pass"
    pw.write_text("a long enough passphrase\n")
    try:
        res = runner.invoke(app, ["import", str(FIXTURE)])
        assert res.exit_code == 0, res.output
        out = tmp_path / "cli.tgbk"
        res = runner.invoke(app, ["backup", str(out), "--passphrase-file", str(pw), "--json"])
        assert res.exit_code == 0, res.output
        made = json.loads(res.stdout)
        assert made["encrypted"] == "passphrase" and made["audit_head"]["seq"] > 0
        res = runner.invoke(app, ["backup", "verify", str(out), "--passphrase-file", str(pw)])
        assert res.exit_code == 0 and "OK" in res.output, res.output
        bad = tmp_path / "bad-pass"
        bad.write_text("another passphrase\n")
        res = runner.invoke(app, ["backup", "verify", str(out), "--passphrase-file", str(bad), "--json"])
        assert res.exit_code != 0 and "cannot decrypt" in res.output
        res = runner.invoke(app, ["restore", str(out), "--data-dir", str(data), "--passphrase-file", str(pw)])
        assert res.exit_code != 0 and "running" in res.output  # the live folder is refused
        res = runner.invoke(app, ["restore", str(out), "--data-dir", str(tmp_path / "r"), "--passphrase-file",
                                  str(pw)])
        assert res.exit_code == 0 and "audit verify OK" in res.output, res.output
    finally:
        EmbeddedServer(tmp_path / "r").stop()
        EmbeddedServer(data).stop()
