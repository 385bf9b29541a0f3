"""The `audit`, `users`, `login/logout/whoami` commands end to end on an embedded database
in a temporary data folder (in-process CliRunner; the server is stopped afterwards)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracegraph.cli import app
from tracegraph.engine import commands
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.stores import open_store
from tracegraph.engine.stores.server import EmbeddedServer
from tracegraph.settings import load_settings

ADMIN_PW = "Root-Passphrase-7\n"
QA_PW = "Quality-Secret-8\n"


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("cli")
    mp = pytest.MonkeyPatch()
    mp.setenv("TRACEGRAPH_DATA_DIR", str(data))
    mp.setenv("TRACEGRAPH_APPENDFSYNC", "everysec")
    for k in ("TRACEGRAPH_DATABASE_URL", "TRACEGRAPH_USER", "TRACEGRAPH_PASSWORD"):
        mp.delenv(k, raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int = 0) -> Any:
        res = runner.invoke(app, list(args), input=input)
        assert res.exit_code == code, f"{args}: exit {res.exit_code}\n{res.output}\n{res.exception!r}"
        return res

    run.data = data  # type: ignore[attr-defined]
    yield run
    EmbeddedServer(data).stop()
    mp.undo()


def _json(res: Any) -> Any:
    return json.loads(res.stdout)


@pytest.mark.req("REQ-ACC-006")
def test_init_login_and_manage_users(cli: Any) -> None:
    out = _json(cli("users", "init", "--username", "admin", "--name", "Ada Admin", "--password-stdin", "--json",
                    input=ADMIN_PW))
    assert out["roles"] == ["admin"]
    cli("users", "init", "--username", "other", "--name", "O", "--password-stdin", input=ADMIN_PW, code=1)
    cli("users", "list", code=1)  # not logged in yet
    cli("login", "--username", "admin", "--password-stdin", input=ADMIN_PW)
    assert _json(cli("whoami", "--json"))["id"] == "admin"
    cli("users", "add", "qa.lead", "--name", "Quinn Lead", "--roles", "qa,qa_manager", "--password-stdin", input=QA_PW)
    cli("users", "add", "j.doe", "--name", "Jane Doe", "--roles", "viewer", "--password-stdin", input="Viewer-Secret-99\n")
    users = {u["id"]: u for u in _json(cli("users", "list", "--json"))}
    assert users["qa.lead"]["roles"] == ["qa", "qa_manager"] and "password_hash" not in users["qa.lead"]
    assert _json(cli("users", "set-roles", "j.doe", "viewer,complaint_handler", "--json"))["roles"] == [
        "complaint_handler", "viewer"]
    assert _json(cli("users", "disable", "j.doe", "--reason", "left", "--json"))["status"] == "disabled"
    assert _json(cli("users", "enable", "j.doe", "--json"))["status"] == "active"
    cli("users", "reset-password", "j.doe", "--password-stdin", input="Another-Secret-77\n")
    cli("users", "unlock", "j.doe")
    err = cli("users", "add", "bad", "--name", "B", "--password-stdin", input="short\n", code=2)
    assert "password" in err.output


def test_checkpoint_prove_and_verify_offline(cli: Any, tmp_path: Path) -> None:
    cp = _json(cli("audit", "checkpoint", "--json"))
    assert cp["size"] >= 5
    proof = tmp_path / "p.json"
    cli("audit", "prove", "2", "--out", str(proof))
    pub = tmp_path / "pub.pem"
    cli("audit", "public-key", "--out", str(pub))
    assert "PUBLIC KEY" in pub.read_text()
    cons = tmp_path / "c.json"
    cons.write_text(cli("audit", "prove", "--from", "3").stdout)
    assert json.loads(cons.read_text())["type"] == "consistency"
    assert _json(cli("audit", "checkpoints", "--json"))[0]["size"] == cp["size"]
    # offline: a data folder with no database at all
    empty = tmp_path / "no-db"
    mp = pytest.MonkeyPatch()
    mp.setenv("TRACEGRAPH_DATA_DIR", str(empty))
    try:
        assert _json(cli("audit", "verify-proof", str(proof), "--public-key", str(pub), "--json"))["ok"] is True
        cli("audit", "verify-proof", str(cons), "--public-key", str(pub))
        forged = json.loads(proof.read_text())
        forged["entry"]["actor"] = "mallory"
        proof.write_text(json.dumps(forged))
        res = cli("audit", "verify-proof", str(proof), "--public-key", str(pub), code=1)
        assert "INVALID" in res.output
    finally:
        mp.undo()
    assert not empty.exists()  # nothing was started or created


@pytest.mark.req("REQ-SIG-001")
def test_sign_and_show_signatures(cli: Any) -> None:
    store = open_store(load_settings())
    try:
        commands.create(store, "Release", "REL-9", {"batch_id": "B-9", "status": "open"},
                        Actor("j.doe", "Jane Doe", frozenset({"qa"})))
    finally:
        store.close()
    cli("logout")
    cli("login", "--username", "qa.lead", "--password-stdin", input=QA_PW)
    cli("audit", "sign", "Release", "REL-9", "--meaning", "reviewed", "--password-stdin", input=QA_PW, code=1)
    out = _json(cli("audit", "sign", "Release", "REL-9", "--meaning", "reviewed", "--user", "qa.lead",
                    "--password-stdin", "--json", input=QA_PW))
    assert out["valid"] and out["signer_name"] == "Quinn Lead"
    views = _json(cli("audit", "signatures", "Release", "REL-9", "--json"))
    assert [v["meaning"] for v in views] == ["reviewed"]
    assert "Quinn Lead" in cli("audit", "signatures", "Release", "REL-9").stdout


@pytest.mark.req("REQ-AUD-006")
def test_log_and_verify(cli: Any) -> None:
    entries = _json(cli("audit", "log", "--target", "j.doe", "--json"))
    assert {e["action"] for e in entries} >= {"user_add", "user_set_roles", "user_disable"}
    table = cli("audit", "log", "--actor", "admin", "--limit", "3").stdout
    assert "old" in table and "new" in table
    rep = _json(cli("audit", "verify", "--json"))
    assert rep["ok"] and rep["entries_checked"] == rep["head_seq"]
    assert "OK" in cli("audit", "verify").stdout
    store = open_store(load_settings())
    try:
        store.run("MATCH (e:AuditEntry {seq: 3}) SET e.actor = 'mallory'")
        res = cli("audit", "verify", code=1)
        assert "first broken entry: 3" in " ".join(res.stdout.split())
        assert _json(cli("audit", "verify", "--json", code=1))["first_error"]["seq"] == 3
    finally:
        store.run("MATCH (e:AuditEntry {seq: 3}) SET e.actor = 'admin'")
        store.close()


def test_env_override_and_logout(cli: Any) -> None:
    cli("logout")
    cli("users", "list", code=1)
    mp = pytest.MonkeyPatch()
    mp.setenv("TRACEGRAPH_USER", "admin")
    mp.setenv("TRACEGRAPH_PASSWORD", ADMIN_PW.strip())
    try:
        assert _json(cli("whoami", "--json"))["id"] == "admin"
    finally:
        mp.undo()


def test_every_command_documents_an_example() -> None:
    import typer.main

    group = typer.main.get_command(app)
    for name in ("audit", "users"):
        sub = group.commands[name]  # type: ignore[attr-defined]
        for cname, cmd in sub.commands.items():
            assert "Example:" in (cmd.help or ""), f"{name} {cname}"
    for cname in ("login", "logout", "whoami"):
        assert "Example:" in (group.commands[cname].help or "")  # type: ignore[attr-defined]
