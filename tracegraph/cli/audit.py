"""`tracegraph audit ...`: verify the chain, read history, sign checkpoints, prove entries,
check proofs offline, and sign records electronically."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, print_json, settings, store

app = typer.Typer(help="The audit trail: verify, history, checkpoints, proofs, signatures.", no_args_is_help=True)


def _short(v: Any, n: int = 40) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s if len(s) <= n else s[: n - 1] + "…"


def _actor(s: Any) -> Any:
    from tracegraph.engine.access.auth import cli_actor

    return cli_actor(s, settings().data_dir)


@app.command()
@clean_errors
def verify(
    from_seq: int = typer.Option(1, "--from", help="Start at this seq (incremental, from a trusted point)."),
    no_state: bool = typer.Option(False, "--no-state", help="Only the chain; skip comparing records with it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Recompute the hash chain and check audited records against it; exit 1 if anything differs.

    Example: tracegraph audit verify --json
    """
    from rich.progress import Progress

    from tracegraph.engine.audit.verify import verify as run_verify

    s = store()
    try:
        if as_json:
            report = run_verify(s, from_seq=from_seq, check_state=not no_state)
        else:
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("verifying", total=None)
                report = run_verify(s, from_seq=from_seq, check_state=not no_state,
                                    progress=lambda done, total: bar.update(task, completed=done, total=total))
    finally:
        s.close()
    if as_json:
        print_json(report.model_dump())
    elif report.ok:
        console.print(
            f"[green]OK[/green] entries {report.from_seq}..{report.to_seq} ({report.entries_checked}) and "
            f"{report.records_checked} records verify; head {report.head_hash[:16]}… "
            f"({report.entries_per_second:,.0f} entries/s, start: {report.trusted_start})"
        )
    else:
        assert report.first_error is not None
        console.print(f"[red]FAILED[/red] first broken entry: {report.first_error.seq}: {report.first_error.message}")
        t = Table("seq", "kind", "field", "expected", "actual", "message")
        for p in report.problems[:50]:
            t.add_row(str(p.seq), p.kind, p.field or "", _short(p.expected, 24), _short(p.actual, 24), p.message)
        console.print(t)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@clean_errors
def log(
    target: Optional[str] = typer.Option(None, "--target", help="Record key (its signatures included)."),
    actor: Optional[str] = typer.Option(None, "--actor", help="User id."),
    since: Optional[str] = typer.Option(None, "--since", help="ISO time or date, inclusive (UTC)."),
    until: Optional[str] = typer.Option(None, "--until", help="ISO time or date (its whole day), inclusive (UTC)."),
    action: Optional[str] = typer.Option(None, "--action", help="e.g. create, update, sign, login_failed."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show audit history, newest first, with old and new values side by side.

    Example: tracegraph audit log --target B-1001 --since 2026-01-01
    """
    from tracegraph.engine.audit.chain import history

    s = store()
    try:
        entries = history(s, target=target, actor=actor, since=since, until=until, action=action, limit=limit)
    finally:
        s.close()
    if as_json:
        print_json([e.model_dump() for e in entries])
        return
    t = Table("seq", "time (UTC)", "user", "action", "record", "field", "old", "new", "reason")
    for e in entries:
        rows = e.changes or [{"field": "", "old": "", "new": ""}]
        for i, c in enumerate(rows):
            first = i == 0
            t.add_row(
                str(e.seq) if first else "", e.ts[:19] if first else "", f"{e.actor_name} ({e.actor})" if first else "",
                e.action if first else "", f"{e.target_label} {e.target_key}" if first else "", str(c.get("field", "")),
                _short(c.get("old")) if c.get("old") is not None else "", _short(c.get("new")) if c.get("new") is not None else "",
                e.reason if first else "",
            )
    console.print(t)


@app.command()
@clean_errors
def checkpoint(as_json: bool = JSON_OPTION) -> None:
    """Verify the chain since the last checkpoint, then sign a checkpoint (Ed25519) of it.

    Example: tracegraph audit checkpoint
    """
    from tracegraph.engine.audit.checkpoints import create_checkpoint

    s = store()
    try:
        cp = create_checkpoint(s, settings().data_dir, _actor(s))
    finally:
        s.close()
    if as_json:
        print_json(cp.model_dump())
    else:
        console.print(f"checkpoint {cp.id}: size {cp.size}, root {cp.root[:16]}…, key {cp.key_id}, at {cp.ts}")


@app.command()
@clean_errors
def checkpoints(limit: int = typer.Option(20, "--limit", min=1), as_json: bool = JSON_OPTION) -> None:
    """List signed checkpoints, newest first.

    Example: tracegraph audit checkpoints --json
    """
    from tracegraph.engine.audit.checkpoints import list_checkpoints

    s = store()
    try:
        cps = list_checkpoints(s, limit=limit)
    finally:
        s.close()
    if as_json:
        print_json([c.model_dump() for c in cps])
        return
    t = Table("id", "size", "time", "root", "key", "by")
    for c in cps:
        t.add_row(c.id, str(c.size), c.ts[:19], c.root[:16] + "…", c.key_id, c.created_by)
    console.print(t)


@app.command()
@clean_errors
def prove(
    seq: Optional[int] = typer.Argument(None, help="Entry to prove included (inclusion proof)."),
    first: Optional[int] = typer.Option(None, "--from", help="Older tree size (consistency proof)."),
    second: Optional[int] = typer.Option(None, "--to", help="Newer checkpoint size (default: latest)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the proof here instead of stdout."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print an inclusion proof for entry SEQ, or a consistency proof --from N --to M, as JSON.

    Example: tracegraph audit prove 42 --out proof-42.json
    """
    from tracegraph.engine.audit.checkpoints import consistency_proof, inclusion_proof
    from tracegraph.engine.errors import ValidationFailed

    s = store()
    try:
        if seq is not None:
            proof = inclusion_proof(s, seq, size=second)
        elif first is not None:
            proof = consistency_proof(s, first, second)
        else:
            raise ValidationFailed("give an entry SEQ, or --from N [--to M]")
    finally:
        s.close()
    text = json.dumps(proof, indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        if not as_json:
            console.print(f"wrote {proof['type']} proof to {out}")
        else:
            print_json({"written": str(out), "type": proof["type"]})
    else:
        sys.stdout.write(text + "\n")


@app.command("verify-proof")
@clean_errors
def verify_proof_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Proof JSON from `audit prove`."),
    public_key: Path = typer.Option(..., "--public-key", exists=True, dir_okay=False, help="The log's PEM public key."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a proof OFFLINE (no database): signature, Merkle path, entry hash. Exit 1 if it fails.

    Example: tracegraph audit verify-proof proof-42.json --public-key audit_ed25519.pub.pem
    """
    from tracegraph.engine.audit.checkpoints import verify_proof

    try:
        proof = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        from tracegraph.engine.errors import ValidationFailed

        raise ValidationFailed(f"{file} is not JSON: {exc}") from None
    result = verify_proof(proof, public_key.read_bytes())
    if as_json:
        print_json(result.model_dump())
    else:
        console.print(("[green]VALID[/green] " if result.ok else "[red]INVALID[/red] ") + result.message)
    if not result.ok:
        raise typer.Exit(1)


@app.command("public-key")
@clean_errors
def public_key(out: Optional[Path] = typer.Option(None, "--out"), as_json: bool = JSON_OPTION) -> None:
    """Print (or write) the PEM public key that verifies checkpoints; give it to auditors.

    Example: tracegraph audit public-key --out tracegraph-audit.pub.pem
    """
    from tracegraph.engine.audit.checkpoints import ensure_signing_key, public_key_pem

    d = settings().data_dir
    ensure_signing_key(d)
    pem = public_key_pem(d)
    if out:
        out.write_text(pem, encoding="utf-8")
    if as_json:
        print_json({"public_key": pem, "written": str(out) if out else None})
    elif not out:
        sys.stdout.write(pem)
    else:
        console.print(f"wrote {out}")


@app.command()
@clean_errors
def sign(
    label: str = typer.Argument(..., help="Record label, e.g. Release, Recall, CAPA."),
    key: str = typer.Argument(..., help="Record key."),
    meaning: str = typer.Option(..., "--meaning", help="authored|reviewed|approved|released|closed|exception"),
    reason: str = typer.Option("", "--reason"),
    user: Optional[str] = typer.Option(None, "--user", help="Your user id (required on the first signing of a session)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Sign a record electronically (21 CFR 11): re-enter your password (and user id the first time).

    Example: tracegraph audit sign Release REL-7 --meaning approved --user qa.mgr
    """
    from tracegraph.engine.audit.signatures import sign as do_sign

    password = _read_password(password_stdin, "Password (signature)")
    s = store()
    try:
        actor = _actor(s)
        view = do_sign(s, label, key, meaning, actor, password, reason=reason, username=user)
    finally:
        s.close()
    if as_json:
        print_json(view.model_dump())
    else:
        console.print(f"signed {label} {key}: {view.manifestation}")


@app.command()
@clean_errors
def signatures(label: str = typer.Argument(...), key: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Show a record's signatures (name, user id, time, meaning) and whether each still binds.

    Example: tracegraph audit signatures Release REL-7
    """
    from tracegraph.engine.audit.signatures import signature_status

    s = store()
    try:
        views = signature_status(s, label, key)
    finally:
        s.close()
    if as_json:
        print_json([v.model_dump() for v in views])
        return
    t = Table("signed by", "user id", "meaning", "time (UTC)", "reason", "status")
    for v in views:
        t.add_row(v.signer_name, v.signer_id, v.meaning, v.signed_at[:19], v.reason,
                  "[green]valid[/green]" if v.valid else f"[red]{v.status}[/red]")
    console.print(t)


@app.command()
@clean_errors
def review(
    period_from: str = typer.Option(..., "--from", help="Start of the period: YYYY-MM-DD or ISO time with timezone."),
    period_to: str = typer.Option(..., "--to", help="End of the period (exclusive)."),
    user: Optional[str] = typer.Option(None, "--user", help="Only entries by this user id."),
    record_type: Optional[str] = typer.Option(None, "--record-type", help="Only entries about this label, e.g. Batch."),
    action: Optional[str] = typer.Option(None, "--action", help="Only entries with this action, e.g. update."),
    work_start: str = typer.Option("07:00", "--work-start", help="Working hours start (local time)."),
    work_end: str = typer.Option("19:00", "--work-end", help="Working hours end (local time)."),
    timezone: Optional[str] = typer.Option(None, "--timezone", help="Timezone of the working hours (default: settings)."),
    burst_count: int = typer.Option(30, "--burst-count", help="More than this many entries by one user ..."),
    burst_minutes: float = typer.Option(5.0, "--burst-minutes", help="... within this many minutes is a burst."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip audit verify (no verify-failure exceptions)."),
    out: Path = typer.Option(Path("audit-reviews"), "--out", help="Folder for the XLSX and PDF."),
    do_sign: bool = typer.Option(False, "--sign", help="Sign the review record now (meaning reviewed; password)."),
    signer: Optional[str] = typer.Option(None, "--signer", help="Your user id for the signature (first signing of a session)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the signing password from stdin."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Review the audit trail of a period (Annex 11 §9): changes, exceptions, XLSX + PDF, a signed record.

    Example: tracegraph audit review --from 2026-03-01 --to 2026-04-01 --record-type Batch --sign --signer qa.ann
    """
    from tracegraph.engine.audit import review as rv
    from tracegraph.engine.errors import TracegraphError
    from tracegraph.validation.review_files import write_pdf_review, write_xlsx_review

    req = rv.parse_request({
        "period_from": period_from, "period_to": period_to, "user": user, "record_type": record_type,
        "action": action, "work_start": work_start, "work_end": work_end,
        "timezone": timezone or settings().timezone, "burst_count": burst_count, "burst_minutes": burst_minutes,
        "verify_chain": not no_verify,
    })
    password = _read_password(password_stdin, "Password (signature)") if do_sign else ""
    s = store()
    try:
        actor = _actor(s)
        rep = rv.build_review(s, req, actor)
        xlsx = write_xlsx_review(rep, out / f"{rep.id}.xlsx")
        rv.store_review(s, rep, actor, files={"xlsx": str(xlsx), "pdf": str(out / f"{rep.id}.pdf")})
        manifestation = ""
        if do_sign:
            try:
                view = rv.sign_review(s, rep.id, actor, password, username=signer)
            except TracegraphError:  # the stored review stays; its PDF says it is not signed
                write_pdf_review(rep, out / f"{rep.id}.pdf")
                raise
            manifestation = view.manifestation
        pdf = write_pdf_review(rep, out / f"{rep.id}.pdf", signature=manifestation)
    finally:
        s.close()
    if as_json:
        print_json({**rep.model_dump(mode="json"), "files": {"xlsx": str(xlsx), "pdf": str(pdf)},
                    "signature": manifestation})
        return
    console.print(f"review {rep.id}: {rep.counts['entries']} entries, {rep.counts['findings']} exceptions "
                  f"(audit verify: {dict([(None, 'not run'), (True, 'OK'), (False, 'FAILED')])[rep.verify_ok]})")
    t = Table("rule", "seq", "user", "time (UTC)", "what")
    for f in rep.findings[:200]:
        t.add_row(f.rule, str(f.seq or ""), f.actor, f.ts[:19], _short(f.message, 80))
    if rep.findings:
        console.print(t)
    console.print(f"wrote {xlsx} and {pdf}" + (f"; signed: {manifestation}" if manifestation else
                                                 f"; sign with: tracegraph audit sign AuditReview {rep.id} --meaning reviewed"))


def _read_password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    typed: str = typer.prompt(prompt, hide_input=True)  # click types it Any
    return typed


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="audit")
