"""`tracegraph trace back|forward KEY` and `tracegraph impact ...`: thin commands over
tracegraph.engine.trace.backward / tracegraph.engine.trace.impact. Tables and trees for people, `--json` (the
engine models' model_dump) for machines, `--csv/--xlsx` for the regulator."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.tree import Tree

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, err_console, print_json, settings, store
from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.trace.models import BackwardResult, ImpactOptions, ImpactResult

trace_app = typer.Typer(help="Trace a unit, batch or lot upstream (back) or downstream (forward).",
                        no_args_is_help=True)

SHOW = 25  # rows per table in the human output (use --json or --csv for everything)


# ---------------------------------------------------------------------------------------
# printing
# ---------------------------------------------------------------------------------------


def _print_impact(r: ImpactResult, limit: int) -> None:
    c = r.counts
    console.print(
        f"[bold]{c['units']:g}[/bold] units affected: {c['serials']} serials, {c['batches']} batches, "
        f"{c['lots']} lots; {c['customers']} customers hold {c['units_at_customers']:g}  "
        f"[dim]({r.elapsed_ms:.1f} ms, {'trace index' if r.engine == 'index' else 'graph'})[/dim]"
    )
    t = Table("status", "units", title="Where the units are" + (f" as of {r.query['as_of']}" if r.query.get("as_of") else ""))
    for k, v in r.by_status.items():
        t.add_row(k, f"{v:g}")
    t.add_row("[bold]total[/bold]", f"[bold]{sum(r.by_status.values()):g}[/bold]")
    console.print(t)
    if r.customers:
        t = Table("customer", "name", "kind", "units", "contact", title="Customers to notify")
        for cu in r.customers[:limit]:
            t.add_row(cu.id, cu.name or "", cu.kind or "", f"{cu.units:g}",
                      " / ".join(x for x in (cu.contact.name, cu.contact.email, cu.contact.phone) if x))
        console.print(t)
        if len(r.customers) > limit:
            console.print(f"... and {len(r.customers) - limit} more customers (use --json or --xlsx)")
    if r.containers:  # what a warehouse finds: a pallet or a case, not a serial
        t = Table("container", "sscc", "packed in", "units", "where", title="Containers holding affected units")
        for ct in r.containers[:limit]:
            t.add_row(ct.id, ct.sscc or "", ct.parent or "", str(ct.units),
                      " ".join(x for x in (ct.status, ct.customer) if x))
        console.print(t)
        if len(r.containers) > limit:
            console.print(f"... and {len(r.containers) - limit} more containers (use --json or --xlsx)")
    if r.by_product:
        t = Table("product", "units", title="Per product")
        for p in r.by_product[:limit]:
            t.add_row(p.id, f"{p.units:g}")
        console.print(t)
    if r.batches:
        t = Table("batch", "product", "kind", "units", "path", title="Affected batches")
        for b in r.batches[:limit]:
            t.add_row(b.id, b.product or "", b.kind or "", f"{b.units:g}", " > ".join(b.path))
        console.print(t)
        if len(r.batches) > limit:
            console.print(f"... and {len(r.batches) - limit} more batches")
    if r.serials:
        t = Table("serial", "batch", "status", "customer / warehouse", "why", title="Affected units")
        for s in r.serials[:limit]:
            t.add_row(s.id, s.batch or "", s.status, s.customer or s.warehouse or "", " > ".join(s.path))
        console.print(t)
        if len(r.serials) > limit or r.truncated:
            console.print(f"... {c['serials']} serials in all (use --json, --csv or --xlsx)")
    if r.quantities:
        t = Table("batch", "status", "qty", "customer", "shipment", title="Non-serialised quantities")
        for q in r.quantities[:limit]:
            t.add_row(q.batch, q.status, f"{q.qty:g}", q.customer or "", q.shipment or "")
        console.print(t)


def _print_backward(r: BackwardResult) -> None:
    s = r.start
    root = Tree(f"[bold]{s['label']} {s['id']}[/bold]  ({r.elapsed_ms:.1f} ms)")
    for b in r.batches:
        node = root.add(f"batch [bold]{b.id}[/bold] {b.product or ''} {b.kind or ''} started {b.started_at or '?'}"
                        f"  inputs: {', '.join(b.inputs) or '-'}")
        for e in b.equipment:
            colour = "green" if e.calibration_state == "in_calibration" else "red"
            node.add(f"equipment {e.equipment} {e.used_from} .. {e.used_to}  "
                     f"[{colour}]{e.calibration_state}[/{colour}] (cal {e.calibration or '-'}, due {e.calibration_due_at or '-'})")
        for d in b.documents:
            node.add(f"document {d.linked} via {d.via}; in effect: {d.in_effect or '?'}"
                     + ("" if d.matches else "  [yellow]differs[/yellow]"))
        if b.siblings:
            node.add(f"{b.siblings} sibling units: {', '.join(b.sibling_ids[:5])}{' ...' if b.siblings > 5 else ''}")
    for lot in r.lots:
        node = root.add(f"lot [bold]{lot.id}[/bold] {lot.material or ''}"
                        + (f"  from lots {', '.join(lot.parents)}" if lot.parents else ""))
        for sp in lot.suppliers:
            node.add(f"supplier {sp.supplier} {sp.name or ''} received {sp.date or '?'} qty {sp.qty} po {sp.po or '-'}")
        for i in lot.inspections:
            node.add(f"inspection {i.id} {i.date or ''} {i.result or ''}")
    for q in r.quality:
        root.add(f"[red]{q.label} {q.id}[/red] about {q.about}: {q.title or ''} ({q.status or ''})")
    console.print(root)


def _export(r: ImpactResult, csv_path: Optional[Path], xlsx_path: Optional[Path]) -> None:
    from tracegraph.engine.trace import regulator_sheet

    if csv_path:
        n = regulator_sheet.write(r, "csv", csv_path)
        err_console.print(f"wrote {n} rows to {csv_path}")
    if xlsx_path:
        n = regulator_sheet.write(r, "xlsx", xlsx_path)
        err_console.print(f"wrote {n} rows to {xlsx_path}")


CSV_OPTION = typer.Option(None, "--csv", help="Write one row per affected unit to this CSV file.")
XLSX_OPTION = typer.Option(None, "--xlsx", help="Write the regulator spreadsheet (units + summary) to this file.")
LIMIT_OPTION = typer.Option(SHOW, "--show", help="Rows per table in the human output.")
RECEIVED_FROM = typer.Option(None, "--received-from", help="...received (goods receipt) from this date or time.")
RECEIVED_TO = typer.Option(None, "--received-to", help="...received until this date (the whole day) or time.")
USED_FROM = typer.Option(None, "--used-from", help="...used from this date or time (with --equipment).")
USED_TO = typer.Option(None, "--used-to", help="...used until this date (the whole day) or time.")
FROM_OPTION = typer.Option(None, "--from", help="Short for --received-from with --supplier, --used-from with "
                           "--equipment; refused when both or neither are given.")
TO_OPTION = typer.Option(None, "--to", help="Short for --received-to / --used-to (same rule as --from).")


# ---------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------


@trace_app.command("back")
@clean_errors
def back(
    key: str = typer.Argument(..., help="serial, batch or lot key (or a scanned UDI / EPC / Digital Link)"),
    siblings: int = typer.Option(100, "--siblings", help="List at most this many sibling units per batch."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Everything a unit, batch or lot came from: batches, lots, suppliers, equipment, documents.

    Example: tracegraph trace back SN-000123 --json
    """
    from tracegraph.engine.trace.backward import backward_trace

    r = backward_trace(store(), key, sibling_limit=siblings)
    if as_json:
        print_json(r.model_dump(mode="json"))
    else:
        _print_backward(r)


@trace_app.command("forward")
@clean_errors
def forward(
    key: str = typer.Argument(..., help="serial, batch or lot key (or a scanned identifier)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Classify units as of this date (YYYY-MM-DD)."),
    max_depth: Optional[int] = typer.Option(None, "--max-depth", help="Follow at most N edges."),
    exclude_returned: bool = typer.Option(False, "--exclude-returned", help="Leave out returned/destroyed units."),
    csv_path: Optional[Path] = CSV_OPTION,
    xlsx_path: Optional[Path] = XLSX_OPTION,
    show: int = LIMIT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Everything a unit, batch or lot reached, and where those units are now.

    Example: tracegraph trace forward LOT-RESIN-042 --json
    """
    from tracegraph.engine.trace.impact import forward_trace

    r = forward_trace(store(), key, as_of=as_of, max_depth=max_depth, include_returned=not exclude_returned,
                      with_history=bool(csv_path or xlsx_path))
    _export(r, csv_path, xlsx_path)
    if as_json:
        print_json(r.model_dump(mode="json"))
    else:
        _print_impact(r, show)


@clean_errors
def impact_cmd(
    lot: list[str] = typer.Option([], "--lot", help="A suspect material lot (repeatable)."),
    supplier: Optional[str] = typer.Option(None, "--supplier", help="Every lot this supplier delivered..."),
    received_from: Optional[str] = RECEIVED_FROM,
    received_to: Optional[str] = RECEIVED_TO,
    equipment: Optional[str] = typer.Option(None, "--equipment", help="Batches processed on this equipment..."),
    used_from: Optional[str] = USED_FROM,
    used_to: Optional[str] = USED_TO,
    date_from: Optional[str] = FROM_OPTION,
    date_to: Optional[str] = TO_OPTION,
    batch: list[str] = typer.Option([], "--batch", help="A suspect batch (repeatable)."),
    document: Optional[str] = typer.Option(None, "--document", help="A document version DOCID@VERSION."),
    serial_range: Optional[str] = typer.Option(None, "--serial-range", help="GTIN:FROM-TO (or BATCH:FROM-TO)."),
    serial: list[str] = typer.Option([], "--serial", help="A suspect unit (repeatable)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Classify units as of this date (YYYY-MM-DD)."),
    max_depth: Optional[int] = typer.Option(None, "--max-depth", help="Follow at most N edges from the seeds."),
    edge: list[str] = typer.Option([], "--edge", help="Only follow these edge types (repeatable)."),
    exclude_returned: bool = typer.Option(False, "--exclude-returned", help="Leave out returned/destroyed units."),
    no_paths: bool = typer.Option(False, "--no-paths", help="Skip provenance paths (faster on huge results)."),
    engine: str = typer.Option(
        "auto", "--engine",
        help="auto: the trace index when TRACEGRAPH_TRACE_INDEX=on, else the graph; index: build the trace index "
             "and answer from it (an error if it cannot); cypher: the graph only. Same answer either way.",
    ),
    csv_path: Optional[Path] = CSV_OPTION,
    xlsx_path: Optional[Path] = XLSX_OPTION,
    show: int = LIMIT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Impact analysis: which batches, units and customers a cause reached, and where the units are.

    Example: tracegraph impact --supplier SUP-7 --received-from 2026-01-01 --received-to 2026-03-31 --xlsx recall.xlsx
    """
    from tracegraph.engine.inputs import build
    from tracegraph.engine.trace.cause_flags import cause_from_flags
    from tracegraph.engine.trace.impact import impact

    cause = cause_from_flags(
        lots=lot, batches=batch, serials=serial, supplier=supplier, equipment=equipment, document=document,
        serial_range=serial_range, received_from=received_from, received_to=received_to, used_from=used_from,
        used_to=used_to, date_from=date_from, date_to=date_to,
    )
    options = build(ImpactOptions, dict(as_of=as_of, max_depth=max_depth, edge_types=edge or None,
                                        include_returned=not exclude_returned, include_paths=not no_paths),
                    "impact options", record="command line")
    if csv_path or xlsx_path:
        from tracegraph.engine.trace.regulator_sheet import sheet_options

        options = sheet_options(options)
    if engine not in ("auto", "index", "cypher"):
        raise ValidationFailed(f"unknown engine {engine!r}", hint="use auto, index or cypher", field="--engine")
    st = store()
    if engine == "index" or (engine == "auto" and settings().trace_index == "on"):
        from tracegraph.engine.trace import index as trace_index

        trace_index.refresh(st)  # a one-shot command builds the index it answers from
    r = impact(st, cause, options, engine=engine)  # type: ignore[arg-type]
    _export(r, csv_path, xlsx_path)
    if as_json:
        print_json(r.model_dump(mode="json"))
    else:
        _print_impact(r, show)


def register(app: typer.Typer) -> None:
    """Add `trace back|forward` and `impact` to the root command."""
    app.add_typer(trace_app, name="trace")
    app.command("impact")(impact_cmd)


__all__ = ["register", "trace_app", "impact_cmd"]
