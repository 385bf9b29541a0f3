"""`tracegraph validate`: IQ/OQ/PQ on this installation and a signed validation report.

Logic lives in tracegraph/validation/; this module only gathers options, opens the store and
asks for the password."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, print_json, settings, store


def _try_actor(s: Any) -> Any:
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.errors import AuthenticationFailed

    try:
        return cli_actor(s, settings().data_dir)
    except AuthenticationFailed:
        return None


@clean_errors
def run(
    out: Path = typer.Option(Path("validation-report"), "--out", help="Folder for report.json, report.html, report.pdf."),
    iq: bool = typer.Option(True, "--iq/--no-iq", help="Installation qualification (read-only)."),
    oq: bool = typer.Option(True, "--oq/--no-oq", help="Run the requirement-tagged tests on a scratch data folder."),
    pq: bool = typer.Option(True, "--pq/--no-pq", help="Mock recall drill + audit verify on the live data."),
    oq_tests: list[str] = typer.Option([], "--oq-tests", help="Limit the OQ to these tests (node ids or paths, repeatable)."),
    oq_from_junit: Optional[Path] = typer.Option(None, "--oq-from-junit", help="Take OQ results from this JUnit XML instead of running tests."),
    tests_dir: Optional[Path] = typer.Option(None, "--tests-dir", help="The test suite (default: tests/ beside the package)."),
    scratch: Optional[Path] = typer.Option(None, "--scratch", help="Scratch folder for the OQ (default: a new temp folder)."),
    pq_lot: list[str] = typer.Option([], "--pq-lot", help="Drill cause (default: a lot that reached units)."),
    pq_target: float = typer.Option(60.0, "--pq-target-seconds", help="Time target of the mock recall drill."),
    meaning: str = typer.Option("reviewed", "--meaning", help="Signature meaning: reviewed or approved."),
    no_sign: bool = typer.Option(False, "--no-sign", help="Write the files only: no record, no signature (CI)."),
    signer: Optional[str] = typer.Option(None, "--signer", help="Your user id (first signing of a session)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the signing password from stdin."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate this installation: IQ, OQ, PQ; write JSON + HTML + PDF; store and sign the report.

    Example: tracegraph validate --out validation-report/ --signer qa.ann
    """
    from tracegraph.engine.errors import TracegraphError
    from tracegraph.engine.trace.models import ImpactCause
    from tracegraph.validation import catalogue, tags
    from tracegraph.validation import iq as iqm
    from tracegraph.validation import oq as oqm
    from tracegraph.validation import pq as pqm
    from tracegraph.validation import report as rpt

    if meaning not in ("reviewed", "approved"):
        raise typer.BadParameter("reviewed or approved", param_hint="--meaning")
    password = ""
    if not no_sign:
        password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password (signature)", hide_input=True)
    cfg = settings()
    oq_res = None
    failed: TracegraphError | None = None
    if oq_from_junit is not None:
        tdir = tests_dir or oqm.default_tests_dir()
        oq_res = oqm.from_junit(oq_from_junit, tags.scan(tdir) if tdir else None)
    elif oq:
        tdir = tests_dir or oqm.default_tests_dir()
        if tdir is None:
            raise typer.BadParameter("the OQ needs the test suite (tests/ of the source distribution): pass --tests-dir "
                                     "or --no-oq", param_hint="--tests-dir")
        if not as_json:
            console.print(f"OQ: running the requirement-tagged tests of {tdir} on a scratch data folder ...")
        oq_res = oqm.run_oq(tdir, selection=oq_tests or None, scratch=scratch)
    s = store()
    try:
        actor = _try_actor(s)
        if not no_sign and actor is None:
            raise typer.BadParameter("signing needs a logged-in user (tracegraph login); or pass --no-sign")
        iq_res = iqm.run_iq(s, Path(cfg.data_dir), cfg.timezone) if iq else None
        pq_res = pqm.run_pq(s, actor, out / "pq-drill", cause=ImpactCause(lots=pq_lot) if pq_lot else None,
                            target_s=pq_target) if pq else None
        rep = rpt.build_report(catalogue.load(), iq_res.build if iq_res else iqm.build_identity(), iq=iq_res, oq=oq_res,
                               pq=pq_res, run_by=actor)
        files = {"json": str(out / "report.json"), "html": str(out / "report.html"), "pdf": str(out / "report.pdf")}
        if no_sign:
            rep.signature = {"note": "not signed (--no-sign): files only, no record in the graph"}
        else:
            rec = rpt.store_report(s, rep, actor, files)
            rep.record = {"label": "ValidationReport", "key": rep.id, "content_sha256": rec.props["content_sha256"],
                          "audit_seq": rec.audit_seq}
            try:
                view = rpt.sign_report(s, rep.id, actor, password, meaning=meaning, username=signer)
                rep.signature = view.model_dump()
            except TracegraphError as exc:  # the files still say what was found, and that it is unsigned
                failed = exc
                rep.signature = {"note": f"not signed: {exc} (sign later: tracegraph audit sign ValidationReport "
                                         f"{rep.id} --meaning {meaning})"}
    finally:
        s.close()
    rpt.write_json(rep, Path(files["json"]))
    rpt.write_html(rep, Path(files["html"]))
    rpt.write_pdf(rep, Path(files["pdf"]))
    if failed is not None:
        raise failed
    if as_json:
        print_json({"id": rep.id, "summary": rep.summary, "files": files, "signature": rep.signature,
                    "deviations": [d.model_dump() for d in rep.deviations]})
    else:
        sm = rep.summary
        console.print(f"validation report {rep.id}: {sm['verdict']}; {sm['requirements']} requirements "
                      f"{sm['by_result']}; {sm['deviations']} deviations; build {rep.build.get('hash')}")
        console.print(f"wrote {files['json']}, {files['html']}, {files['pdf']}")
        if rep.signature.get("signer_id"):
            console.print(f"signed: {rep.signature['signer_name']} ({rep.signature['signer_id']}), "
                          f"{rep.signature['meaning']}, {rep.signature['signed_at']}")
    if rep.summary["verdict"] == "FAIL":
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    """One command (`tracegraph validate`), not a group: IQ, OQ and PQ are its options."""
    root.command("validate")(run)
