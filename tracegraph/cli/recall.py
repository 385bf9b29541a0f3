"""`tracegraph recall ...`: recall campaigns from an impact result to a closed, effective recall.

Every command is one engine call (tracegraph.engine.recall.campaign*). Writing commands act as the
logged-in user (`tracegraph login`) or TRACEGRAPH_USER + TRACEGRAPH_PASSWORD; signing commands
ask for the password again (21 CFR 11.200), or read it from stdin with --password-stdin.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, print_json, settings, store

app = typer.Typer(help="Recall campaigns: create, approve, notify, returns, effectiveness, close, drills.",
                  no_args_is_help=True)

PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the signing password from stdin (one line).")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="recall")


def _actor(s: Any) -> Any:
    from tracegraph.engine.access.auth import cli_actor

    return cli_actor(s, settings().data_dir)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    env = os.environ.get("TRACEGRAPH_PASSWORD")
    if env:
        return env
    typed: str = typer.prompt("Password (electronic signature)", hide_input=True)  # click types it Any
    return typed


def _cause(lot: list[str], batch: list[str], serial: list[str], supplier: Optional[str], equipment: Optional[str],
           document: Optional[str], serial_range: Optional[str], received_from: Optional[str],
           received_to: Optional[str], used_from: Optional[str], used_to: Optional[str], date_from: Optional[str],
           date_to: Optional[str]) -> Any:
    """The one cause model, built from the same flags (and by the same rules) as `tracegraph impact`."""
    from tracegraph.engine.trace.cause_flags import cause_from_flags

    return cause_from_flags(lots=lot, batches=batch, serials=serial, supplier=supplier, equipment=equipment,
                            document=document, serial_range=serial_range, received_from=received_from,
                            received_to=received_to, used_from=used_from, used_to=used_to, date_from=date_from,
                            date_to=date_to)


LOT = typer.Option([], "--lot", help="material lot code (repeatable)")
BATCH = typer.Option([], "--batch", help="batch id (repeatable)")
SERIAL = typer.Option([], "--serial", help="serial key (repeatable)")
SUPPLIER = typer.Option(None, "--supplier", help="supplier code (with --received-from/--received-to)")
EQUIPMENT = typer.Option(None, "--equipment", help="equipment id (with --used-from/--used-to)")
DOCUMENT = typer.Option(None, "--document", help="a document version DOCID@VERSION")
SERIAL_RANGE = typer.Option(None, "--serial-range", help="GTIN:FROM-TO (or BATCH:FROM-TO)")
RFROM = typer.Option(None, "--received-from", help="supplier receipt window start (date or timestamp with zone)")
RTO = typer.Option(None, "--received-to", help="supplier receipt window end (a date: the whole day)")
UFROM = typer.Option(None, "--used-from", help="equipment usage window start (date or timestamp with zone)")
UTO = typer.Option(None, "--used-to", help="equipment usage window end (a date: the whole day)")
WFROM = typer.Option(None, "--from", help="short for --received-from with --supplier or --used-from with "
                     "--equipment; refused when both or neither are given")
WTO = typer.Option(None, "--to", help="short for --received-to / --used-to (same rule as --from)")


def _show_recall(rec: Any, extra: dict[str, Any] | None = None) -> None:
    t = Table(show_header=False, box=None)
    for k in ("id", "status", "jurisdiction", "recall_class", "type", "reason", "responsible", "decision_at",
              "approved_by", "started_at", "completed_at", "closed_at", "units_covered", "field_units",
              "customers_affected", "quarantined_serials", "quarantined_batches", "quarantined_lots",
              "effectiveness_pct", "exception", "drill"):
        v = getattr(rec, k, None)
        if v not in (None, "", 0, False, []) or k in ("id", "status"):
            t.add_row(k, str(v))
    for k, v in (extra or {}).items():
        t.add_row(k, str(v))
    console.print(t)
    print_signatures(getattr(rec, "signatures", None) or [])


def print_signatures(sigs: list[dict[str, Any]]) -> None:
    """The 21 CFR 11.50 manifestation of each signature, and whether it still binds (11.70)."""
    for sg in sigs:
        state = "valid" if sg.get("valid") else sg.get("status", "INVALID")
        line = f"signed: {sg.get('manifestation') or sg['signer_name']}: {sg.get('reason', '')} [{state}]"
        console.print(escape(line))


@app.command()
@clean_errors
def create(
    lot: list[str] = LOT, batch: list[str] = BATCH, serial: list[str] = SERIAL, supplier: Optional[str] = SUPPLIER,
    received_from: Optional[str] = RFROM, received_to: Optional[str] = RTO, equipment: Optional[str] = EQUIPMENT,
    used_from: Optional[str] = UFROM, used_to: Optional[str] = UTO, document: Optional[str] = DOCUMENT,
    serial_range: Optional[str] = SERIAL_RANGE, window_from: Optional[str] = WFROM, window_to: Optional[str] = WTO,
    jurisdiction: str = typer.Option(..., "--jurisdiction", "-j", help="CN-NMPA, US-FDA or EU-MDR"),
    recall_class: str = typer.Option(..., "--class", "-c", help="I, II or III"),
    type_: str = typer.Option("removal", "--type", help="removal, correction, relabel, software_update, "
                                                          "field_safety_notice, ..."),
    reason: str = typer.Option(..., "--reason"),
    health_hazard: str = typer.Option("", "--hazard", help="health hazard assessment"),
    depth: str = typer.Option("user", "--depth", help="wholesale, retail or user"),
    responsible: Optional[str] = typer.Option(None, "--responsible", help="user id (default: you)"),
    team: list[str] = typer.Option([], "--team", help="team member user id (repeatable)"),
    strategy: str = typer.Option("", "--strategy"),
    incident_severity: str = typer.Option("none", "--incident", help="EU MDR: serious_incident, "
                                          "serious_public_health_threat, death_or_serious_deterioration"),
    recall_id: Optional[str] = typer.Option(None, "--id", help="business key (default generated)"),
    aware_at: Optional[str] = typer.Option(None, "--aware-at", help="EU MDR: when the manufacturer became aware "
                                           "(ISO 8601 with a timezone; default: the decision time)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Decide a recall: run the impact query and freeze the affected set (draft).

    Example: tracegraph recall create --lot L-2026-001 -j CN-NMPA -c II --reason "seal may leak"
    """
    from tracegraph.engine.recall.campaign import RecallCreate, create_recall_from_cause

    cause = _cause(lot, batch, serial, supplier, equipment, document, serial_range, received_from, received_to,
                   used_from, used_to, window_from, window_to)
    s = store()
    try:
        actor = _actor(s)
        data = RecallCreate(id=recall_id, jurisdiction=jurisdiction, recall_class=recall_class, type=type_,
                            reason=reason, health_hazard=health_hazard, depth=depth,
                            responsible=responsible or actor.id, team=team, strategy=strategy,
                            incident_severity=incident_severity, aware_at=aware_at)
        from tracegraph.engine.recall.inputs import require_users

        require_users(s, data)
        out = create_recall_from_cause(s, actor, data, cause)
    finally:
        s.close()
    if as_json:
        print_json(out.model_dump())
    else:
        _show_recall(out.recall, {"audit_seq": out.audit_seq, "timings_ms": out.timings_ms})


@app.command()
@clean_errors
def show(recall_id: str = typer.Argument(...), diff: bool = typer.Option(False, "--diff", help="compare the "
         "snapshot with the graph now"), as_json: bool = JSON_OPTION) -> None:
    """Show a recall, its customers and reconciliation (and with --diff what changed since the decision).

    Example: tracegraph recall show RC-20260302-1A2B3C --diff
    """
    from tracegraph.engine.recall.campaign import customers, get_recall, snapshot_diff
    from tracegraph.engine.recall.returns import reconcile

    s = store()
    try:
        rec = get_recall(s, recall_id)
        custs = customers(s, recall_id)
        rc = reconcile(s, recall_id)
        sigs = rec.signatures
        d = snapshot_diff(s, recall_id) if diff else None
    finally:
        s.close()
    if as_json:
        print_json({"recall": rec.model_dump(), "customers": [c.model_dump() for c in custs],
                    "reconciliation": rc.model_dump(), "signatures": sigs, "diff": d.model_dump() if d else None})
        return
    _show_recall(rec, {"accounted": f"{rc.accounted:g}/{rc.expected:g} ({rc.pct:.1f} %)"})
    t = Table("customer", "name", "lang", "role", "received", "units", "passed on", "status", "sent", "acknowledged",
              "accounted", "unaccounted")
    by = {r.customer: r for r in rc.customers}
    for c in custs:
        r = by.get(c.id)
        t.add_row(c.id, c.name or "", c.language, c.role, f"{max(c.units_received, c.units):g}", f"{c.units:g}",
                  f"{c.units_passed_on:g}", c.status, (c.sent_at or "")[:16], (c.acknowledged_at or "")[:16],
                  f"{r.accounted:g}" if r else "", f"{r.unaccounted:g}" if r else "")
    console.print(t)
    if d:
        console.print(f"since the decision: {len(d.now_affected_not_covered)} unit(s) affected but not covered, "
                      f"{d.status_changed_total} covered unit(s) changed status, "
                      f"{len(d.covered_not_affected_now)} covered but no longer reached")


@app.command("list")
@clean_errors
def list_(status: Optional[str] = typer.Option(None, "--status"), drill: Optional[bool] = typer.Option(
          None, "--drill/--real", help="only drills / only real recalls"), as_json: bool = JSON_OPTION) -> None:
    """List recalls, newest first.

    Example: tracegraph recall list --status in_progress
    """
    from tracegraph.engine.recall.campaign import list_recalls

    s = store()
    try:
        recs = list_recalls(s, status=status, drill=drill)
    finally:
        s.close()
    if as_json:
        print_json([r.model_dump() for r in recs])
        return
    t = Table("id", "status", "jurisdiction", "class", "units", "customers", "decision", "drill")
    for r in recs:
        t.add_row(r.id, r.status, r.jurisdiction, r.recall_class, f"{r.units_covered:g}", str(r.customers_affected),
                  r.decision_at[:16], "yes" if r.drill else "")
    console.print(t)


def _signing_step(fn_name: str, recall_id: str, reason: str, password_stdin: bool, as_json: bool,
                  **kw: Any) -> None:
    from tracegraph.engine.recall import campaign as R

    s = store()
    try:
        actor = _actor(s)
        rec = getattr(R, fn_name)(s, actor, recall_id, password=_password(password_stdin), reason=reason, **kw)
    finally:
        s.close()
    if as_json:
        print_json(rec.model_dump())
    else:
        _show_recall(rec)


@app.command()
@clean_errors
def approve(recall_id: str = typer.Argument(...), reason: str = typer.Option(..., "--reason"),
            password_stdin: bool = PASSWORD_STDIN, as_json: bool = JSON_OPTION) -> None:
    """Approve a draft recall with your electronic signature (you may not be its author).

    Example: tracegraph recall approve RC-20260302-1A2B3C --reason "hazard assessment reviewed"
    """
    _signing_step("approve", recall_id, reason, password_stdin, as_json)


@app.command()
@clean_errors
def close(recall_id: str = typer.Argument(...), reason: str = typer.Option(..., "--reason"),
          exception: Optional[str] = typer.Option(None, "--exception", help="QA justification to close below the "
                                                  "effectiveness target (signed as meaning 'exception')"),
          password_stdin: bool = PASSWORD_STDIN, as_json: bool = JSON_OPTION) -> None:
    """Close a recall after its effectiveness check, with your electronic signature.

    Example: tracegraph recall close RC-20260302-1A2B3C --reason "all units accounted for"
    """
    _signing_step("close", recall_id, reason, password_stdin, as_json, exception_justification=exception)


def _simple(fn: Any, recall_id: str, as_json: bool, **kw: Any) -> None:
    s = store()
    try:
        rec = fn(s, _actor(s), recall_id, **kw)
    finally:
        s.close()
    if as_json:
        print_json(rec.model_dump() if hasattr(rec, "model_dump") else rec)
    elif hasattr(rec, "status"):
        _show_recall(rec)
    else:
        console.print(rec)


@app.command()
@clean_errors
def start(recall_id: str = typer.Argument(...), no_quarantine: bool = typer.Option(False, "--no-quarantine"),
          as_json: bool = JSON_OPTION) -> None:
    """Start the field action (in_progress) and quarantine covered stock so it cannot ship.

    Example: tracegraph recall start RC-20260302-1A2B3C
    """
    from tracegraph.engine.recall.campaign import start as fn

    _simple(fn, recall_id, as_json, quarantine=not no_quarantine)


@app.command()
@clean_errors
def cancel(recall_id: str = typer.Argument(...), reason: str = typer.Option(..., "--reason"),
           as_json: bool = JSON_OPTION) -> None:
    """Cancel a recall (with a reason).

    Example: tracegraph recall cancel RC-20260302-1A2B3C --reason "duplicate of RC-20260301-FFFFFF"
    """
    from tracegraph.engine.recall.campaign import cancel as fn

    _simple(fn, recall_id, as_json, reason=reason)


@app.command()
@clean_errors
def quarantine(recall_id: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Quarantine covered units and batches still in our stock (never in a drill).

    Example: tracegraph recall quarantine RC-20260302-1A2B3C
    """
    from tracegraph.engine.recall.returns import quarantine as fn

    _simple(fn, recall_id, as_json)


@app.command()
@clean_errors
def milestone(recall_id: str = typer.Argument(...), name: str = typer.Argument(..., help="authority_report, "
              "plan_submission, summary_report, report_806, incident_report, fsca_report, fsn_issued, "
              "public_notice or progress_report"),
              reference: str = typer.Option("", "--ref", help="submission reference"),
              at: Optional[str] = typer.Option(None, "--at", help="when (ISO, default now)"),
              as_json: bool = JSON_OPTION) -> None:
    """Record a regulatory submission, which stops its clock (or one more progress report).

    Example: tracegraph recall milestone RC-20260302-1A2B3C authority_report --ref "SH-MPA-2026-17"
    """
    from tracegraph.engine.recall.campaign import record_milestone

    _simple(record_milestone, recall_id, as_json, milestone=name, reference=reference, at=at)


@app.command()
@clean_errors
def notify(recall_id: str = typer.Argument(...),
           out: Path = typer.Option(Path("recall-notices"), "--out", help="folder for letters and lists"),
           customer: list[str] = typer.Option([], "--customer", help="only these customers (repeatable)"),
           mark_sent: bool = typer.Option(False, "--mark-sent", help="record the notices as sent"),
           fmt: str = typer.Option("xlsx", "--format", help="xlsx or csv for the lists"),
           company: str = typer.Option("the manufacturer", "--company"),
           as_json: bool = JSON_OPTION) -> None:
    """Generate letters (PDF, customer's language) and customer/unit lists; optionally mark them sent.

    Example: tracegraph recall notify RC-20260302-1A2B3C --out notices/ --mark-sent
    """
    from tracegraph.engine.recall.notify import generate_notifications

    s = store()
    try:
        res = generate_notifications(s, _actor(s), recall_id, out, customer_ids=customer or None, mark_sent=mark_sent,
                                     sheet_format=fmt, company=company)  # type: ignore[arg-type]
    finally:
        s.close()
    if as_json:
        print_json(res.model_dump())
        return
    for x in res.letters:
        note = f" (fallback: {x.fallback_reason})" if x.fallback_reason else ""
        console.print(f"{x.customer}: {x.path} [{x.language_used}]{note}")
    console.print(f"customers: {res.customer_list}\nunits: {res.units_sheet}\nsignatures: {res.signatures_sheet}\n"
                  f"marked sent: {res.marked_sent}")


@app.command()
@clean_errors
def ack(recall_id: str = typer.Argument(...), customer: str = typer.Option(..., "--customer"),
        step: str = typer.Option("acknowledged", "--step", help="sent, delivered, bounced (notice undeliverable), "
                                   "acknowledged or stock_count"),
        by: Optional[str] = typer.Option(None, "--by", help="who acknowledged (name)"),
        stock: Optional[float] = typer.Option(None, "--stock", help="the customer's own stock count"),
        channel: Optional[str] = typer.Option(None, "--channel"),
        at: Optional[str] = typer.Option(None, "--at", help="when (ISO, default now)"),
        as_json: bool = JSON_OPTION) -> None:
    """Record a customer's notification step: sent, delivered or bounced, acknowledged (who), stock count.

    Example: tracegraph recall ack RC-20260302-1A2B3C --customer H1 --by "Dr Wang" --stock 3
    """
    from tracegraph.engine.recall.notify import update_customer

    s = store()
    try:
        c = update_customer(s, _actor(s), recall_id, customer, step, by=by, stock_count=stock,  # type: ignore[arg-type]
                            channel=channel, at=at)
    finally:
        s.close()
    if as_json:
        print_json(c.model_dump())
    else:
        console.print(f"{c.id}: {c.status}, sent {c.sent_at or '-'}, acknowledged {c.acknowledged_at or '-'} "
                      f"by {c.acknowledged_by or '-'}, stock {c.stock_count if c.stock_count is not None else '-'}")


@app.command("return")
@clean_errors
def return_(recall_id: str = typer.Argument(...), customer: str = typer.Option(..., "--customer"),
            disposition: str = typer.Option("returned", "--disposition", help="returned, destroyed, corrected, "
                                            "consumed or not_found"),
            scan: list[str] = typer.Option([], "--scan", help="scanned UDI / GS1 string or serial key (repeatable)"),
            scan_file: Optional[Path] = typer.Option(None, "--scan-file", help="file with one scan per line"),
            qty: float = typer.Option(0, "--qty", help="units without scanning (non-serialised or declared)"),
            transfer: bool = typer.Option(False, "--transfer", help="confirm that scanned units another customer "
                                          "held were passed on to this one"),
            note: str = typer.Option("", "--note"), as_json: bool = JSON_OPTION) -> None:
    """Account for units of a customer: scanned returns, destroyed, corrected in the field, not found.

    Example: tracegraph recall return RC-20260302-1A2B3C --customer D1 --scan "(01)00812345678905(21)1001"
    """
    from tracegraph.engine.recall.returns import record_returns

    scans = list(scan)
    if scan_file:
        scans += [ln.strip() for ln in scan_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    s = store()
    try:
        res = record_returns(s, _actor(s), recall_id, customer, disposition, scans=scans, qty=qty,  # type: ignore[arg-type]
                             note=note, transfer=transfer)
    finally:
        s.close()
    if as_json:
        print_json(res.model_dump())
    else:
        console.print(f"{res.customer}: {len(res.serials)} scanned + {res.qty:g} counted as {res.disposition}"
                      + (f" (return {res.return_id})" if res.return_id else ""))


@app.command()
@clean_errors
def effectiveness(recall_id: str = typer.Argument(...),
                  record: bool = typer.Option(False, "--record", help="store the check on the recall (audited)"),
                  complete: bool = typer.Option(False, "--complete", help="field actions done: move to "
                                                "effectiveness_check"),
                  as_json: bool = JSON_OPTION) -> None:
    """Effectiveness: % of field units accounted for, per customer and overall, vs the class target.

    Example: tracegraph recall effectiveness RC-20260302-1A2B3C --complete --record
    """
    from tracegraph.engine.recall.campaign import complete as do_complete
    from tracegraph.engine.recall.effectiveness import effectiveness as eff_fn
    from tracegraph.engine.recall.effectiveness import record_effectiveness_check

    s = store()
    try:
        if complete:
            do_complete(s, _actor(s), recall_id)
        eff = record_effectiveness_check(s, _actor(s), recall_id) if record else eff_fn(s, recall_id)
    finally:
        s.close()
    if as_json:
        print_json(eff.model_dump())
        return
    t = Table("customer", "role", "expected", "returned", "destroyed", "corrected", "consumed", "not found",
              "accounted", "acknowledged", "%")
    for c in eff.customers:
        t.add_row(c.customer, c.role, f"{c.expected:g}", f"{c.returned:g}", f"{c.destroyed:g}", f"{c.corrected:g}",
                  f"{c.consumed:g}", f"{c.not_found:g}", f"{c.accounted:g}", "yes" if c.acknowledged else "no",
                  f"{c.pct:.1f}")
    console.print(t)
    if eff.awaiting_acknowledgement:
        console.print(f"[red]awaiting acknowledgement[/red] from {len(eff.awaiting_acknowledgement)} consignee(s) "
                      f"that passed units on: {', '.join(eff.awaiting_acknowledgement)}")
    mark = "[green]meets[/green]" if eff.meets_target else "[red]below[/red]"
    console.print(f"overall {eff.overall_pct:.1f} % {mark} the class {eff.recall_class} target {eff.target_pct:.1f} %")


@app.command()
@clean_errors
def documents(recall_id: str = typer.Argument(...),
              generate: bool = typer.Option(False, "--generate", help="Render the jurisdiction's forms now."),
              form: list[str] = typer.Option([], "--form", help="Only these forms (repeatable)."),
              company: str = typer.Option("", "--company", help="Manufacturer name printed on the forms."),
              out: Path = typer.Option(Path("recall-documents"), "--out", help="Folder for the PDFs."),
              as_json: bool = JSON_OPTION) -> None:
    """The regulators' documents of a recall (NMPA forms, EU FSN and replies, FDA 806 and effectiveness), with hashes.

    Example: tracegraph recall documents RC-20260302-1A2B3C --generate --company "InfuPro Medical"
    """
    from tracegraph.engine.recall import documents as docs

    s = store()
    try:
        if generate:
            docs.generate(s, _actor(s), recall_id, out, company=company, forms=form or None)
        rows = docs.documents(s, recall_id)
    finally:
        s.close()
    if as_json:
        print_json(rows)
        return
    t = Table("form", "language", "title", "file", "sha256", "created")
    for d in rows:
        t.add_row(d["form"], d["language"], d["title"], d["path"], d["sha256"][:16] + "…", d["created_at"][:16])
    console.print(t)


@app.command()
@clean_errors
def deadlines(recall_id: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Regulatory due dates of a recall (rules per jurisdiction, with their article) and what is overdue.

    Example: tracegraph recall deadlines RC-20260302-1A2B3C
    """
    from tracegraph.engine.recall.clocks import deadlines as fn

    s = store()
    try:
        dls = fn(s, recall_id)
    finally:
        s.close()
    if as_json:
        print_json([d.model_dump() for d in dls])
        return
    t = Table("clock", "article", "period", "due", "done", "state")
    colors = {"overdue": "red", "due_soon": "yellow", "done_late": "magenta", "done": "green"}
    for d in dls:
        c = colors.get(d.state)
        t.add_row(d.name, d.article, d.period, (d.due_at or "-")[:16], (d.done_at or "-")[:16],
                  f"[{c}]{d.state}[/{c}]" if c else d.state)
    console.print(t)


@app.command()
@clean_errors
def alerts(recall_id: Optional[str] = typer.Option(None, "--recall"),
           mine: bool = typer.Option(False, "--mine", help="only alerts assigned to me"),
           all_: bool = typer.Option(False, "--all", help="include acknowledged alerts"),
           evaluate: bool = typer.Option(False, "--evaluate", help="evaluate the rules now first"),
           ack_id: Optional[str] = typer.Option(None, "--ack", help="acknowledge this alert id"),
           as_json: bool = JSON_OPTION) -> None:
    """List recall alerts (open by default); evaluate rules now or acknowledge one.

    Example: tracegraph recall alerts --evaluate --mine
    """
    from tracegraph.engine.recall.alerts import acknowledge_alert, evaluate_alerts, list_alerts

    s = store()
    try:
        assignee = None
        if mine or ack_id:
            actor = _actor(s)
            assignee = actor.id if mine else None
            if ack_id:
                acknowledge_alert(s, actor, ack_id)
        if evaluate:
            evaluate_alerts(s)
        items = list_alerts(s, recall_id=recall_id, assignee=assignee, open_only=not all_)
    finally:
        s.close()
    if as_json:
        print_json([a.model_dump() for a in items])
        return
    t = Table("severity", "recall", "rule", "subject", "message", "assignee", "raised")
    for a in items:
        t.add_row(a.severity, a.recall, a.rule, a.subject, a.message, a.assignee, a.raised_at[:16])
    console.print(t)


@app.command()
@clean_errors
def watch(interval: float = typer.Option(300.0, "--interval", help="seconds between evaluations"),
          once: bool = typer.Option(False, "--once", help="evaluate once and exit"),
          webhook: Optional[str] = typer.Option(None, "--webhook", help="POST new alerts here (default: setting "
                                                "recall_webhook_url)"),
          as_json: bool = JSON_OPTION) -> None:
    """Evaluate alert rules now and every --interval seconds; new alerts go to the webhook.

    Example: tracegraph recall watch --interval 600
    """
    from tracegraph.engine.recall.alerts import watch as fn

    def show_run(run: Any) -> None:
        if as_json:
            print_json(run.model_dump())
        else:
            console.print(f"{run.evaluated_at}: {run.recalls} open recall(s), {len(run.new)} new alert(s)"
                          + (f", webhook {run.webhook}" if run.webhook else ""))
            for a in run.new:
                console.print(f"  [{a.severity}] {a.recall} {a.message} -> {a.assignee}")

    s = store()
    try:
        fn(s, interval_s=interval, once=once, on_run=show_run, webhook_url=webhook)
    except KeyboardInterrupt:
        pass
    finally:
        s.close()


@app.command()
@clean_errors
def drill(lot: list[str] = LOT, batch: list[str] = BATCH, serial: list[str] = SERIAL,
          supplier: Optional[str] = SUPPLIER, received_from: Optional[str] = RFROM, received_to: Optional[str] = RTO,
          equipment: Optional[str] = EQUIPMENT, used_from: Optional[str] = UFROM, used_to: Optional[str] = UTO,
          document: Optional[str] = DOCUMENT, serial_range: Optional[str] = SERIAL_RANGE,
          window_from: Optional[str] = WFROM, window_to: Optional[str] = WTO,
          out: Path = typer.Option(Path("recall-drills"), "--out", help="folder for the drill report"),
          jurisdiction: str = typer.Option("CN-NMPA", "--jurisdiction", "-j"),
          recall_class: str = typer.Option("I", "--class", "-c"),
          letters: int = typer.Option(20, "--letters", help="how many letters to generate (timing sample)"),
          target: Optional[float] = typer.Option(None, "--target-seconds", help="fail the drill above this time"),
          history: bool = typer.Option(False, "--history", help="list past drills instead of running one"),
          as_json: bool = JSON_OPTION) -> None:
    """Run a timed mock recall (never changes real statuses) and write its report (PDF + JSON).

    Example: tracegraph recall drill --lot L-2026-001 --out drills/ --target-seconds 5
    """
    from tracegraph.engine.recall.drill import drills, run_drill

    s = store()
    try:
        if history:
            hist = drills(s)
            if as_json:
                print_json(hist)
            else:
                t = Table("drill", "recall", "started", "units", "total ms", "passed")
                for d in hist:
                    t.add_row(d["id"], d["recall_id"], d["started_at"][:16], f"{d['units']:g}", f"{d['total_ms']:.0f}",
                              str(d["passed"]))
                console.print(t)
            return
        cause = _cause(lot, batch, serial, supplier, equipment, document, serial_range, received_from, received_to,
                       used_from, used_to, window_from, window_to)
        rep = run_drill(s, _actor(s), cause, out,
                        jurisdiction=jurisdiction, recall_class=recall_class, letter_limit=letters, target_s=target)
    finally:
        s.close()
    if as_json:
        print_json(rep.model_dump())
        return
    for k, v in rep.timings_ms.items():
        console.print(f"{k:12} {v:9.1f} ms")
    console.print(f"{'total':12} {rep.total_ms:9.1f} ms; {rep.units:g} units, {rep.customers} customers; "
                  f"real data untouched: {rep.real_data_untouched}; "
                  + ("[green]PASSED[/green]" if rep.passed else "[red]FAILED[/red]"))
    console.print(f"report: {rep.report_pdf}")
    if not rep.passed:
        raise typer.Exit(1)
