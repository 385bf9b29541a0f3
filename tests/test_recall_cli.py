"""`tracegraph recall ...` end to end through the CLI (typer runner, real embedded database,
real users: signatures re-check the password with the auth engine)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from test_recall_plant import build
from tracegraph.cli import app
from tracegraph.engine.access.auth import add_user
from tracegraph.engine.audit.chain import Actor

PW = "a-long-Passphrase-1"


@pytest.fixture()
def cli(empty_store, embedded_server):
    build(empty_store)
    add_user(empty_store, Actor.system(), "alice", "Alice Author", PW, ["qa_manager"])
    add_user(empty_store, Actor.system(), "bob", "Bob Approver", PW, ["qa_manager"])
    runner = CliRunner()

    def invoke(user: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
        env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": empty_store.graph_name,
               "TRACEGRAPH_DATABASE_URL": "", "TRACEGRAPH_USER": user, "TRACEGRAPH_PASSWORD": PW}
        res = runner.invoke(app, ["recall", *args], env=env, input=stdin)
        return res.exit_code, res.stdout

    return invoke


@pytest.mark.req("REQ-RCL-008")
def test_cli_campaign(cli, tmp_path) -> None:
    code, out = cli("alice", "create", "--lot", "L1", "-j", "CN-NMPA", "-c", "III", "--reason", "label misprint",
                    "--json")
    assert code == 0, out
    rid = json.loads(out)["recall"]["id"]
    code, out = cli("alice", "approve", rid, "--reason", "ok", "--json")
    assert code == 1 and "author" in out  # two-person rule, clean JSON error
    code, out = cli("bob", "approve", rid, "--reason", "reviewed", "--password-stdin", "--json", stdin="wrong-pass\n")
    assert code == 1 and "signature refused" in out
    code, out = cli("bob", "approve", rid, "--reason", "reviewed", "--password-stdin", "--json", stdin=PW + "\n")
    assert code == 0 and json.loads(out)["status"] == "approved", out
    code, out = cli("alice", "deadlines", rid, "--json")
    assert code == 0 and {d["clock"] for d in json.loads(out)} >= {"notify_customers", "plan_submission"}
    assert cli("alice", "start", rid, "--json")[0] == 0
    code, out = cli("alice", "notify", rid, "--out", str(tmp_path), "--format", "csv", "--mark-sent", "--json")
    assert code == 0 and json.loads(out)["marked_sent"] == 2, out
    code, out = cli("alice", "ack", rid, "--customer", "D1", "--by", "Li Lei", "--stock", "4", "--json")
    assert code == 0 and json.loads(out)["acknowledged_by"] == "Li Lei"
    code, out = cli("alice", "return", rid, "--customer", "D1", "--scan", "B1-S0001", "--scan", "B1-S0002",
                    "--qty", "2", "--json")
    assert code == 0 and json.loads(out)["serials"] == ["B1-S0001", "B1-S0002"], out
    code, out = cli("alice", "return", rid, "--customer", "H1", "--disposition", "corrected", "--qty", "3", "--json")
    assert code == 0
    code, out = cli("alice", "effectiveness", rid, "--complete", "--record", "--json")
    eff = json.loads(out)
    assert code == 0 and eff["overall_pct"] == pytest.approx(87.5) and eff["target_pct"] == 90.0
    code, out = cli("bob", "close", rid, "--reason", "done", "--json")
    assert code == 1 and "below" in out
    code, out = cli("bob", "close", rid, "--reason", "done", "--exception", "1 unit implanted, patient informed",
                    "--json")
    assert code == 0 and json.loads(out)["status"] == "closed", out
    code, out = cli("alice", "show", rid, "--diff", "--json")
    data = json.loads(out)
    assert [s["meaning"] for s in data["signatures"]] == ["approved", "closed", "exception"]
    assert data["reconciliation"]["accounted"] == 7.0 and data["diff"]["status_changed_total"] == 4  # 2 returned + 2 quarantined
    code, out = cli("alice", "show", rid)
    assert code == 0 and "Bob Approver" in out
    code, out = cli("alice", "list", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [rid]


@pytest.mark.req("REQ-RCL-006")
def test_cli_drill_alerts_watch(cli, tmp_path) -> None:
    code, out = cli("alice", "drill", "--batch", "B1", "--out", str(tmp_path), "--letters", "1", "--json")
    assert code == 0, out
    rep = json.loads(out)
    assert rep["real_data_untouched"] and rep["passed"]
    code, out = cli("alice", "drill", "--history", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == rep["drill_id"]
    code, out = cli("alice", "create", "--batch", "B1", "-j", "US-FDA", "-c", "I", "--reason", "x", "--json")
    assert code == 0
    code, out = cli("alice", "watch", "--once", "--json")
    assert code == 0 and json.loads(out)["recalls"] == 1
    code, out = cli("alice", "alerts", "--json")
    assert code == 0 and isinstance(json.loads(out), list)
    for cmd in ("create", "show", "list", "approve", "start", "notify", "ack", "return", "quarantine",
                "effectiveness", "close", "drill", "watch", "alerts", "deadlines"):
        code, out = cli("alice", cmd, "--help")
        assert code == 0 and "Example:" in out, cmd
