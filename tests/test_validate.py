"""`tracegraph validate` end to end: IQ on a real embedded database in a temporary data folder,
a tiny OQ run in a subprocess on a scratch folder, PQ (drill + verify) on the "live" data, the
report stored as a signed record, and the JSON / HTML / PDF read back and checked against the
test run itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracegraph.cli import app
from tracegraph.engine.access import auth
from tracegraph.engine.audit.signatures import signature_status
from tracegraph.engine.stores import open_store
from tracegraph.engine.stores.server import EmbeddedServer
from tracegraph.settings import load_settings
from tracegraph.validation import catalogue, iq, oq, report

ROOT = Path(__file__).resolve().parent.parent
QA_PW = "Quality-Secret-8"
#: the tiny OQ selection: a few tagged tests, one of them parametrised
SELECTION = ["tests/test_model.py", "tests/test_requirements.py::test_no_test_names_an_unknown_requirement"]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("live")
    mp = pytest.MonkeyPatch()
    mp.setenv("TRACEGRAPH_DATA_DIR", str(data))
    mp.setenv("TRACEGRAPH_APPENDFSYNC", "always")  # the regulated setting, which the IQ expects
    mp.delenv("TRACEGRAPH_DATABASE_URL", raising=False)
    s = open_store(load_settings())
    auth.init_admin(s, "admin", "Ada Admin", "Root-Passphrase-7")
    admin = auth.authenticate(s, "admin", "Root-Passphrase-7")
    auth.add_user(s, admin, "qa.val", "Vera Validator", QA_PW, ["qa"])
    s.close()
    mp.setenv("TRACEGRAPH_USER", "qa.val")
    mp.setenv("TRACEGRAPH_PASSWORD", QA_PW)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int = 0) -> Any:
        res = runner.invoke(app, list(args), input=input)
        assert res.exit_code == code, f"{args}: exit {res.exit_code}\n{res.output}\n{res.exception!r}"
        return res

    run("import", str(ROOT / "tests" / "fixtures" / "bundle_small"))
    run.data = data  # type: ignore[attr-defined]
    yield run
    EmbeddedServer(data).stop()
    mp.undo()


def _junit(tmp: Path, selection: list[str]) -> Path:
    """The same selection run by plain pytest with a JUnit file: the independent test run."""
    out = tmp / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEGRAPH_")}
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={out}",
                    *[str(ROOT / s) for s in selection]], cwd=tmp, env=env, capture_output=True, timeout=600)
    return out


def _check_report_against(rep: dict[str, Any], run: oq.OQResult) -> None:
    """Every requirement is in the matrix, and each result follows from the test run's outcomes."""
    rows = {r["id"]: r for r in rep["matrix"]}
    assert set(rows) == catalogue.ids()
    outcomes: dict[str, list[str]] = {}
    for t in run.tests:
        for r in t.requirements:
            outcomes.setdefault(r, []).append(t.outcome)
    for req in catalogue.load():
        got = rows[req.id]
        seen = outcomes.get(req.id, [])
        assert sorted(t["outcome"] for t in got["tests"]) == sorted(seen), req.id
        if req.status == catalogue.NOT_YET_COVERED:
            want = "not-yet-covered"
        elif any(o in ("failed", "error") for o in seen):
            want = "failed"
        elif "passed" in seen:
            want = "passed"
        else:
            want = "not run"
        assert got["result"] == want, (req.id, got["result"], seen)
    devs = {d["ref"] for d in rep["deviations"] if d["kind"] == "requirement"}
    assert devs == {i for i, r in rows.items() if r["result"] != "passed"}


@pytest.mark.req("REQ-VAL-002")
def test_validate_runs_iq_oq_pq_and_signs_the_report(cli: Any, tmp_path: Path) -> None:
    from pypdf import PdfReader

    out = tmp_path / "report"
    args = ["validate", "--out", str(out), "--signer", "qa.val", "--password-stdin", "--pq-target-seconds", "120",
            "--scratch", str(tmp_path / "scratch"), "--json"]
    for sel in SELECTION:
        args += ["--oq-tests", sel]
    res = cli(*args, input=QA_PW + "\n")
    summary = json.loads(res.stdout)
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["id"] == summary["id"]
    # OQ: ran the selection on the scratch folder, never the live one
    assert rep["oq"]["scratch_dir"] == str(tmp_path / "scratch")
    assert str(cli.data) not in rep["oq"]["command"]
    ran = {t["nodeid"] for t in rep["oq"]["tests"]}
    assert ran and all(n.startswith(("tests/test_model.py::", "tests/test_requirements.py::")) for n in ran)
    assert not (cli.data / "oq-results.json").exists() and (tmp_path / "scratch" / "oq-results.json").exists()
    assert f"--basetemp {tmp_path / 'scratch' / 'tmp'}" in rep["oq"]["command"]  # the tests' own databases go there too
    # the report matches an independent run of the same selection
    junit = oq.from_junit(_junit(tmp_path, SELECTION))
    assert {t.nodeid: t.outcome for t in junit.tests} == {t["nodeid"]: t["outcome"] for t in rep["oq"]["tests"]}
    _check_report_against(rep, junit)
    assert rows_result(rep, "REQ-DAT-002") == "passed" and rows_result(rep, "REQ-DAT-007") == "not run"  # backup tests: not in the tiny selection
    assert rows_result(rep, "REQ-TRC-002") == "not run"  # not in the tiny selection: a deviation, not a pass
    assert "REQ-AUD-009 [passed]" in rep["clauses"]["21 CFR 11.10(e)"]  # read by clause
    assert set(rep["clauses"]) == {c for r in catalogue.load() for c in r.clauses}
    # IQ: versions, durability, schema, files, time
    checks = {(c["area"], c["name"]): c for c in rep["iq"]["checks"]}
    assert checks[("database", "appendfsync")]["status"] == "pass" and checks[("database", "appendfsync")]["actual"] == "always"
    assert checks[("schema", "uniqueness constraints")]["status"] == "pass"
    assert checks[("schema", "indexes")]["status"] == "pass"
    assert checks[("packages", "fpdf2")]["status"] == "pass"
    assert rep["iq"]["packages"]["pydantic"] and rep["iq"]["tracegraph"]
    assert ("time", "system clock (UTC)") in checks
    assert rep["build"]["hash"] and len(rep["build"]["package_sha256"]) == 64
    # PQ: the drill ran on the live data, changed no unit status, and both verifies passed
    steps = {s["name"]: s for s in rep["pq"]["steps"]}
    assert steps["mock recall drill"]["status"] == "pass", steps
    assert steps["mock recall drill"]["detail"]["real_data_untouched"] is True
    assert steps["audit verify (before)"]["status"] == steps["audit verify (after)"]["status"] == "pass"
    assert steps["backup verify"]["status"] == "not run"
    assert "changes no existing record" in rep["pq"]["changes_nothing"]
    # the record and its Part 11 signature; the content hash is recomputable from the JSON
    s = open_store(load_settings())
    try:
        views = signature_status(s, "ValidationReport", rep["id"])
        from tracegraph.engine import commands

        rec = commands.get(s, "ValidationReport", rep["id"])
    finally:
        s.close()
    assert [(v.signer_id, v.meaning, v.valid) for v in views] == [("qa.val", "reviewed", True)]
    assert rec is not None and rec.props["created_by"] == "system" and rec.props["run_by"] == "qa.val"
    body = {k: v for k, v in rep.items() if k not in ("signature", "record")}
    recomputed = report.ValidationReport.model_validate({**body, "signature": {}, "record": {}}).content_sha256()
    assert recomputed == rec.props["content_sha256"] == rep["record"]["content_sha256"]
    # HTML and PDF say the same
    page = (out / "report.html").read_text(encoding="utf-8")
    assert all(r in page for r in catalogue.ids()) and "Vera Validator" in page and rep["id"] in page
    text = "".join(p.extract_text() for p in PdfReader(str(out / "report.pdf")).pages)
    assert rep["id"] in text and "Vera Validator" in text and "reviewed" in text
    assert "REQ-AUD-001" in text and "REQ-VAL-002" in text and "Deviations" in text and "By clause" in text


def rows_result(rep: dict[str, Any], rid: str) -> str:
    return next(r["result"] for r in rep["matrix"] if r["id"] == rid)


@pytest.mark.req("REQ-VAL-002")
def test_ci_mode_reuses_a_junit_file_and_writes_files_only(cli: Any, tmp_path: Path) -> None:
    junit_path = _junit(tmp_path, ["tests/test_requirements.py::test_catalogue_is_well_formed_and_sized",
                                   "tests/test_model.py::test_naive_timestamp_is_refused_with_the_field_named"])
    out = tmp_path / "ci"
    cli("validate", "--oq-from-junit", str(junit_path), "--out", str(out), "--no-sign", "--no-pq", "--json")
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    junit = oq.from_junit(junit_path)
    assert len(junit.tests) == 2 and rep["oq"]["source"].startswith("JUnit XML")
    _check_report_against(rep, junit)
    assert rep["pq"] is None and rep["record"] == {} and "not signed" in rep["signature"]["note"]
    assert (out / "report.html").exists() and (out / "report.pdf").stat().st_size > 1000


@pytest.mark.req("REQ-VAL-002")
def test_failures_unknown_ids_and_iq_findings_are_deviations(embedded_server: Any, store: Any) -> None:
    run = oq.OQResult(source="crafted", tests=[
        oq.CaseResult(nodeid="tests/test_a.py::test_x", outcome="failed", requirements=["REQ-AUD-001"]),
        oq.CaseResult(nodeid="tests/test_a.py::test_y", outcome="passed", requirements=["REQ-AUD-001", "REQ-XXX-999"]),
        oq.CaseResult(nodeid="tests/test_a.py::test_z", outcome="skipped", requirements=["REQ-SIG-001"]),
        oq.CaseResult(nodeid="tests/test_a.py::test_w", outcome="passed", requirements=["REQ-SIG-002"]),
    ])
    # the test session's server runs with everysec: the IQ must call that a failure
    checks, facts = iq.database_checks(store)
    fsync = next(c for c in checks if c.name == "appendfsync")
    assert facts["appendfsync"] == "everysec" and fsync.status == "fail"
    iq_res = iq.IQResult(ok=False, checks=checks, tracegraph="x", python="3", platform="p", packages={})
    rep = report.build_report(catalogue.load(), {"hash": "h"}, iq=iq_res, oq=run, pq=None)
    res = {r.id: r.result for r in rep.matrix}
    assert res["REQ-AUD-001"] == "failed" and res["REQ-SIG-001"] == "not run" and res["REQ-SIG-002"] == "passed"
    kinds = {(d.kind, d.ref) for d in rep.deviations}
    assert ("requirement", "REQ-AUD-001") in kinds and ("iq", "database: appendfsync") in kinds
    assert any(d.kind == "test" and "REQ-XXX-999" in d.ref for d in rep.deviations)
    assert rep.summary["verdict"] == "FAIL"


@pytest.mark.req("REQ-VAL-002")
def test_iq_flags_secrets_readable_by_others(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir(mode=0o700)
    key = tmp_path / "keys" / "audit_ed25519.pem"
    key.write_text("k")
    key.chmod(0o600)
    (tmp_path / "keys" / "audit_ed25519.pub.pem").write_text("p")
    sess = tmp_path / "session.json"
    sess.write_text("{}")
    sess.chmod(0o644)
    got = {c.name: c.status for c in iq.file_checks(tmp_path)}
    assert got["keys/"] == "pass" and got["keys/audit_ed25519.pem"] == "pass" and got["session.json"] == "fail"
    assert "keys/audit_ed25519.pub.pem" not in got


@pytest.mark.req("REQ-AUD-008", "REQ-RCL-009")
def test_cli_audit_review_signed_and_recall_documents(cli: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    res = cli("audit", "review", "--from", "2000-01-01", "--to", "2100-01-01", "--burst-count", "3", "--out",
              str(tmp_path / "rev"), "--sign", "--signer", "qa.val", "--password-stdin", "--json", input=QA_PW + "\n")
    out = json.loads(res.stdout)
    assert out["counts"]["entries"] > 0 and "Vera Validator (qa.val), reviewed" in out["signature"]
    assert load_workbook(out["files"]["xlsx"]).sheetnames == ["summary", "exceptions", "changes"]
    assert Path(out["files"]["pdf"]).read_bytes()[:5] == b"%PDF-"
    s = open_store(load_settings())
    try:
        assert [v.valid for v in signature_status(s, "AuditReview", out["id"])] == [True]
        from tracegraph.validation.pq import drill_candidate

        lot = drill_candidate(s)
    finally:
        s.close()
    drill = json.loads(cli("recall", "drill", "--lot", str(lot), "--out", str(tmp_path / "drill"), "--json").stdout)
    docs = json.loads(cli("recall", "documents", drill["recall_id"], "--generate", "--form", "nmpa-summary",
                          "--out", str(tmp_path / "docs"), "--json").stdout)
    assert [d["form"] for d in docs] == ["nmpa-summary"] and len(docs[0]["sha256"]) == 64
    assert Path(docs[0]["path"]).exists()


@pytest.mark.req("REQ-VAL-002")
def test_a_wrong_password_leaves_an_unsigned_report_and_says_so(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "unsigned"
    res = cli("validate", "--no-oq", "--no-pq", "--out", str(out), "--signer", "qa.val", "--password-stdin", "--json",
              input="not-the-password\n", code=1)
    assert "error" in json.loads(res.stdout)
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["signature"]["note"].startswith("not signed") and rep["record"]["key"] == rep["id"]
    s = open_store(load_settings())
    try:
        assert signature_status(s, "ValidationReport", rep["id"]) == []
    finally:
        s.close()
