"""`tracegraph qms ...`: open, move, show and list quality records (complaints, deviations,
CAPA, change control). Thin over engine/qms: every step is an audited engine command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer
from rich.markup import escape
from rich.table import Table

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, print_json, settings, store
from tracegraph.engine.errors import Problem, ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic import BaseModel

app = typer.Typer(help="Quality records: complaints, deviations, CAPA, change control, releases, calibrations, suppliers.", no_args_is_help=True)
TYPES_HELP = "complaint, deviation, capa, change-control, document, release, training, calibration or supplier"


def _pairs(values: list[str], what: str) -> dict[str, object]:
    """`--field key=value` options; JSON-looking values (true, 3, ["a"]) are parsed."""
    import json

    out: dict[str, object] = {}
    problems = []
    for v in values:
        if "=" not in v:
            problems.append(Problem(record=what, field=v, message="expected key=value"))
            continue
        k, raw = v.split("=", 1)
        try:
            out[k.strip()] = json.loads(raw) if raw[:1] in '[{"' or raw in ("true", "false", "null") else raw
        except ValueError:
            out[k.strip()] = raw
    if problems:
        raise ValidationFailed(f"bad --{what} option", problems)
    return out


def _refs(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for v in values:
        if ":" not in v:
            raise ValidationFailed("bad reference", [Problem(record="about", field=v, message="expected Label:KEY, e.g. Serial:S-1")])
        label, key = v.split(":", 1)
        out.setdefault(label, []).append(key)
    return out


def _show(rec) -> None:  # type: ignore[no-untyped-def]
    console.print(f"[bold]{rec.label} {rec.id}[/bold]  status: [bold]{rec.status}[/bold]")
    t = Table("field", "value", show_header=False)
    for k, v in sorted(rec.props.items()):
        t.add_row(k, str(v))
    console.print(t)
    if rec.concerns:
        console.print("concerns: " + ", ".join(f"{c.get('label', '')} {c['id']}" for c in rec.concerns))
    if rec.addressed_by:
        console.print("addressed by: " + ", ".join(f"{c['label']} {c['id']}" for c in rec.addressed_by))
    for s in rec.signatures:
        state = "valid" if s["valid"] else s.get("status") or "INVALID"
        console.print(escape(f"signed: {s.get('manifestation') or s['signer_name']} [{state}]"))
    for f in rec.flags:
        console.print(f"[yellow]flag:[/yellow] {f}")
    if rec.next_steps:
        console.print("next steps: " + ", ".join(rec.next_steps))


@app.command("open")
@clean_errors
def open_cmd(
    kind: str = typer.Argument(..., help=TYPES_HELP),
    field: list[str] = typer.Option([], "--field", "-f", help="key=value, repeatable"),
    about: list[str] = typer.Option([], "--about", help="Label:KEY the record concerns, repeatable"),
    addresses: list[str] = typer.Option([], "--addresses", help="Complaint:KEY or Deviation:KEY (CAPA)"),
    reason: str = typer.Option("", "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open a quality record.

    Example: tracegraph qms open complaint -f reporter="City Hospital" -f event_date=2026-03-01 -f description="cracked housing" --about Serial:S-1
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms import open_record, record_type

    s = store()
    rec = open_record(s, record_type(kind), cli_actor(s, settings().data_dir), _pairs(field, "field"),
                      about=_refs(about), addresses=_refs(addresses), reason=reason)
    print_json(rec.model_dump()) if as_json else _show(rec)


@app.command("step")
@clean_errors
def step_cmd(
    kind: str = typer.Argument(..., help=TYPES_HELP),
    key: str = typer.Argument(...),
    step: str = typer.Argument(..., help="the lifecycle step (see `qms show`)"),
    field: list[str] = typer.Option([], "--field", "-f", help="key=value, repeatable"),
    reason: str = typer.Option("", "--reason"),
    password: Optional[str] = typer.Option(None, "--password", help="for signed steps; prompted if needed"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Take one lifecycle step; signed steps ask for your password (21 CFR 11.200).

    Example: tracegraph qms step capa CAPA-20260301-1A2B3C close -f effective=true -f effectiveness_result="no recurrence"
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms import move, record_type

    s = store()
    rt = record_type(kind)
    actor = cli_actor(s, settings().data_dir)
    t = rt.transition(step)
    if t.signature and not password:
        password = typer.prompt(f"password of {actor.id} to sign ({t.signature})", hide_input=True)
    rec = move(s, rt, actor, key, step, fields=_pairs(field, "field"), reason=reason, password=password,
               username=actor.id if t.signature else None)
    print_json(rec.model_dump()) if as_json else _show(rec)


@app.command("show")
@clean_errors
def show_cmd(kind: str = typer.Argument(..., help=TYPES_HELP), key: str = typer.Argument(...),
             as_json: bool = JSON_OPTION) -> None:
    """Show one record with what it concerns, its signatures (and whether they still bind) and next steps.

    Example: tracegraph qms show complaint CMP-20260301-1A2B3C
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms import get_record, record_type

    s = store()
    rec = get_record(s, record_type(kind), key, cli_actor(s, settings().data_dir))
    print_json(rec.model_dump()) if as_json else _show(rec)


@app.command("list")
@clean_errors
def list_cmd(kind: str = typer.Argument(..., help=TYPES_HELP), status: Optional[str] = typer.Option(None, "--status"),
             limit: int = typer.Option(50, "--limit"), as_json: bool = JSON_OPTION) -> None:
    """List records of one type, newest first.

    Example: tracegraph qms list capa --status in_progress
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms import list_records, record_type

    s = store()
    recs = list_records(s, record_type(kind), cli_actor(s, settings().data_dir), status=status, limit=limit)
    if as_json:
        print_json([r.model_dump() for r in recs])
        return
    t = Table("id", "status", "title / description", "created", "concerns")
    for r in recs:
        title = str(r.props.get("title") or r.props.get("description") or "")[:50]
        t.add_row(r.id, r.status, title, str(r.props.get("created_at", ""))[:10], ", ".join(c["id"] for c in r.concerns))
    console.print(t)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="qms")


@app.command("checklist")
@clean_errors
def checklist_cmd(batch: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """The batch release checklist: each condition, whether it holds, and why.

    Example: tracegraph qms checklist B-2026-0042
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.release import release_checklist

    s = store()
    cl = release_checklist(s, batch, cli_actor(s, settings().data_dir))
    if as_json:
        print_json(cl.model_dump())
        return
    console.print(f"[bold]batch {cl.batch}[/bold]: " + ("[green]releasable[/green]" if cl.releasable else "[red]not releasable[/red]"))
    t = Table("condition", "ok", "why", "details")
    for c in cl.conditions:
        t.add_row(c.name, "yes" if c.ok else "[red]NO[/red]", c.why, "\n".join(c.details[:10]))
    console.print(t)
    if not cl.releasable:
        raise typer.Exit(4)


@app.command("open-items")
@clean_errors
def open_items_cmd(alert_days: int = typer.Option(7, "--alert-days", help="CAPA alert horizon in days"),
                   as_json: bool = JSON_OPTION) -> None:
    """Open quality records by type, owner and age, how many are overdue, and the CAPA alerts.

    Example: tracegraph qms open-items --json
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.insights import open_items

    s = store()
    res = open_items(s, cli_actor(s, settings().data_dir), alert_days=alert_days)
    if as_json:
        print_json(res.model_dump())
        return
    console.print(f"open: {len(res.items)}  overdue: {res.overdue}  by age: {res.by_age}")
    t = Table("id", "type", "status", "owner", "age (days)", "due", "overdue")
    for i in res.items:
        t.add_row(i.id, i.type, i.status, i.owner or "", f"{i.age_days:.1f}", i.due_date or "", "yes" if i.overdue else "")
    console.print(t)
    for a in res.alerts:
        console.print(f"[{'red' if a['state'] == 'overdue' else 'yellow'}]{a['message']}[/]")


@app.command("scorecard")
@clean_errors
def scorecard_cmd(supplier: Optional[str] = typer.Argument(None), as_json: bool = JSON_OPTION) -> None:
    """Supplier scorecards: lots, inspection results, deviations and complaints traced to their lots.

    Example: tracegraph qms scorecard SUP-0001
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.insights import supplier_scorecard

    s = store()
    cards = supplier_scorecard(s, supplier, cli_actor(s, settings().data_dir))
    if as_json:
        print_json([c.model_dump() for c in cards])
        return
    t = Table("supplier", "name", "status", "lots", "accept", "cond.", "reject", "accept %", "deviations", "complaints")
    for c in cards:
        rate = f"{c.acceptance_rate * 100:.1f}" if c.acceptance_rate is not None else "-"
        t.add_row(c.supplier, c.name or "", c.status or "", str(c.lots), str(c.accepted), str(c.conditional),
                  str(c.rejected), rate, str(c.deviations), str(c.complaints))
    console.print(t)


@app.command("oot")
@clean_errors
def oot_cmd(equipment: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Impact of an out-of-tolerance calibration: everything made on the machine since its last good one.

    Example: tracegraph qms oot EQ-0003
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.insights import out_of_tolerance_impact

    s = store()
    r = out_of_tolerance_impact(s, equipment, cli_actor(s, settings().data_dir))
    if as_json:
        print_json(r.model_dump())
        return
    console.print(f"[bold]{equipment}[/bold]: {r.finding['result']} on {r.finding['date']}; last good calibration "
                  f"{r.last_good['date'] if r.last_good else 'none'}; window {r.window_from or 'start'} .. {r.window_to}")
    console.print(f"affected: {r.impact['counts']}")


@app.command("doc-in-effect")
@clean_errors
def doc_cmd(doc_id: str = typer.Argument(...), at: str = typer.Option(..., "--at", help="ISO date or timestamp"),
            as_json: bool = JSON_OPTION) -> None:
    """Which version of a controlled document was in effect at a moment.

    Example: tracegraph qms doc-in-effect SOP-12 --at 2026-02-01
    """
    from tracegraph.engine.qms.insights import document_in_effect

    props = document_in_effect(store(), doc_id, at)
    if as_json:
        print_json(props)
    else:
        console.print(f"{doc_id} at {at}: " + (f"version {props.get('version')} ({props.get('id')})" if props else "no version in effect"))


@app.command("production")
@clean_errors
def production_cmd(day_from: str = typer.Option(..., "--from", help="first day (ISO date)"),
                   day_to: str = typer.Option(..., "--to", help="day after the last (ISO date)"),
                   as_json: bool = JSON_OPTION) -> None:
    """Daily production report per line and product: batches, units, released batches.

    Example: tracegraph qms production --from 2026-03-01 --to 2026-03-08
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.insights import production_report

    s = store()
    rows = production_report(s, day_from, day_to, cli_actor(s, settings().data_dir))
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    t = Table("day", "line", "product", "batches", "units", "released")
    for r in rows:
        t.add_row(r.day, r.line, r.product, str(r.batches), str(r.units), str(r.released))
    console.print(t)


@app.command("training-matrix")
@clean_errors
def training_cmd(role: Optional[str] = typer.Option(None, "--role"), gaps_only: bool = typer.Option(False, "--gaps"),
                 as_json: bool = JSON_OPTION) -> None:
    """Who is trained on which effective document version; --gaps lists only the missing trainings.

    Example: tracegraph qms training-matrix --role qa --gaps
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.insights import training_matrix

    s = store()
    cells = [c for c in training_matrix(s, role, cli_actor(s, settings().data_dir)) if not (gaps_only and c.trained)]
    if as_json:
        print_json([c.model_dump() for c in cells])
        return
    t = Table("user", "name", "document", "title", "trained")
    for c in cells:
        t.add_row(c.user, c.name or "", c.document, c.title or "", "yes" if c.trained else "[red]NO[/red]")
    console.print(t)


@app.command("inventory")
@clean_errors
def inventory_cmd(at: str = typer.Option(..., "--at", help="ISO date or timestamp"), lot: Optional[str] = typer.Option(None, "--lot"),
                  as_json: bool = JSON_OPTION) -> None:
    """Material lot stock at a moment: received, consumed, split/merged away, on hand.

    Example: tracegraph qms inventory --at 2026-03-31 --lot LOT-000123
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.insights import lot_inventory

    s = store()
    rows = lot_inventory(s, at, lot, cli_actor(s, settings().data_dir))
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    t = Table("lot", "material", "warehouse", "received", "consumed", "moved", "on hand", "uom")
    for r in rows[:500]:
        t.add_row(r.lot, r.material or "", r.warehouse, f"{r.received:g}", f"{r.consumed:g}", f"{r.moved:g}", f"{r.on_hand:g}", r.uom)
    console.print(t)


def _table(rows: Sequence[BaseModel], cols: list[str]) -> None:
    t = Table(*cols)
    for r in rows:
        d = r.model_dump()
        t.add_row(*["" if d.get(c) is None else str(d.get(c)) for c in cols])
    console.print(t)


@app.command("alerts")
@clean_errors
def alerts_cmd(within: int = typer.Option(7, "--within", help="also CAPAs due within this many days"),
               owner: Optional[str] = typer.Option(None, "--owner"), as_json: bool = JSON_OPTION) -> None:
    """CAPA alerts: overdue CAPAs and those due soon, with their owners (exit 4 if any is overdue).

    Example: tracegraph qms alerts --within 14 --owner qa.ann
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.alerts import capa_alerts

    s = store()
    alerts = capa_alerts(s, within_days=within, owner=owner, actor=cli_actor(s, settings().data_dir))
    if as_json:
        print_json([a.model_dump() for a in alerts])
        return
    _table(alerts, ["capa", "owner", "status", "due_date", "days_left", "state", "title"])
    if any(a.state == "overdue" for a in alerts):
        raise typer.Exit(4)


@app.command("suppliers")
@clean_errors
def suppliers_cmd(expiring_within: Optional[int] = typer.Option(None, "--expiring-within", help="days"),
                  unapproved_receipts: bool = typer.Option(False, "--unapproved-receipts",
                                                           help="lots received while the supplier was not approved"),
                  supplier: Optional[str] = typer.Option(None, "--supplier"), as_json: bool = JSON_OPTION) -> None:
    """The approved supplier list (status, qualified until, days left), or lots received from
    suppliers not approved on the receipt date. Qualify with `qms step supplier SUP qualify`.

    Example: tracegraph qms suppliers --expiring-within 60
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.suppliers import lots_from_unapproved_suppliers, supplier_list

    s = store()
    actor = cli_actor(s, settings().data_dir)
    rows: Sequence[BaseModel]
    if unapproved_receipts:
        rows = lots_from_unapproved_suppliers(s, supplier, actor=actor)
        cols = ["lot", "supplier", "received", "supplier_status", "qualified_until", "why"]
    else:
        rows = [r for r in supplier_list(s, expiring_within=expiring_within, actor=actor)
                if supplier is None or r.supplier == supplier]
        cols = ["supplier", "name", "status", "qualified_until", "days_left", "expiring"]
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    _table(rows, cols)


@app.command("equipment")
@clean_errors
def equipment_cmd(due_within: Optional[int] = typer.Option(None, "--due-within", help="days"),
                  as_json: bool = JSON_OPTION) -> None:
    """Calibration schedule: each equipment's last calibration and next due date; with
    --due-within only what is overdue, failed, never calibrated or due within DAYS.

    Example: tracegraph qms equipment --due-within 30
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.equipment import calibration_schedule

    s = store()
    rows = calibration_schedule(s, due_within=due_within, actor=cli_actor(s, settings().data_dir))
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    _table(rows, ["equipment", "name", "last_date", "last_result", "due_at", "days_left", "state"])


@app.command("calibrate")
@clean_errors
def calibrate_cmd(equipment: str = typer.Argument(...), on: str = typer.Option(..., "--date", help="ISO date"),
                  result: str = typer.Option(..., "--result", help="pass, fail or out_of_tolerance"),
                  due_at: Optional[str] = typer.Option(None, "--due-at", help="next due date (required on pass)"),
                  kind: str = typer.Option("calibration", "--kind", help="calibration or maintenance"),
                  certificate: Optional[str] = typer.Option(None, "--certificate"),
                  notes: Optional[str] = typer.Option(None, "--notes"), as_json: bool = JSON_OPTION) -> None:
    """Record a calibration; an out-of-tolerance/failed result prints the impact since the last good one.

    Example: tracegraph qms calibrate EQ-0003 --date 2026-03-01 --result pass --due-at 2026-09-01
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.equipment import record_calibration

    s = store()
    out = record_calibration(s, cli_actor(s, settings().data_dir), equipment, on=on, result=result, due_at=due_at,
                             kind=kind, certificate=certificate, notes=notes)
    if as_json:
        print_json(out.model_dump())
        return
    _show(out.record)
    if out.impact is not None:
        i = out.impact
        console.print(f"[red]{result}[/red]: window {i.window_from or 'start'} .. {i.window_to}; affected: {i.impact['counts']}")


@app.command("released-rejected-lots")
@clean_errors
def released_rejected_cmd(as_json: bool = JSON_OPTION) -> None:
    """Released batches that used a lot whose incoming inspection was later rejected or reopened.

    Example: tracegraph qms released-rejected-lots --json
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.insights import released_batches_with_rejected_lots

    s = store()
    rows = released_batches_with_rejected_lots(s, cli_actor(s, settings().data_dir))
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    _table(rows, ["batch", "released_at", "lot", "inspection", "result", "inspection_status", "after_release"])


@app.command("overdue-calibration-batches")
@clean_errors
def overdue_cal_cmd(equipment: Optional[str] = typer.Option(None, "--equipment"),
                    status: Optional[str] = typer.Option(None, "--status", help="only batches in this status"),
                    as_json: bool = JSON_OPTION) -> None:
    """Batches made on equipment whose calibration was overdue, failed or missing at the time.

    Example: tracegraph qms overdue-calibration-batches --status released
    """
    from tracegraph.engine.access.auth import cli_actor
    from tracegraph.engine.qms.equipment import batches_on_overdue_equipment

    s = store()
    rows = batches_on_overdue_equipment(s, equipment, status=status, actor=cli_actor(s, settings().data_dir))
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    _table(rows, ["batch", "batch_status", "equipment", "used_from", "calibration", "calibration_due", "why"])
