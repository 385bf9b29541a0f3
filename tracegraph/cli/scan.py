"""`tracegraph scan STRING` (what is this unit / lot, where is it now) and
`tracegraph export epcis [--batch ID | --lot ID | --all] OUT` (GS1 EPCIS 2.0 export)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, print_json, store
from tracegraph.engine.errors import ValidationFailed

export_app = typer.Typer(help="Export parts of the graph in standard formats.", no_args_is_help=True)


def _show(rep) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    r = rep.resolved
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_row("[bold]identifier[/bold]", r.text)
    t.add_row("is", f"{r.label} [bold]{r.id}[/bold]  (matched by {r.matched_by})")
    if rep.product:
        name = rep.product.get("name") or ""
        name = "" if name == rep.product.get("id") else name
        t.add_row("product", f"{rep.product.get('id')} {name}".strip())
    if rep.batch:
        t.add_row("batch", str(rep.batch.get("id")))
    if rep.lot:
        t.add_row("lot", str(rep.lot))
    if rep.expiry:
        t.add_row("expiry", str(rep.expiry))
    if rep.status:
        t.add_row("status", str(rep.status))
    if rep.holder:
        hname = rep.holder.get("name") or ""
        hname = "" if hname == rep.holder.get("id") else hname
        t.add_row("where now", f"{rep.holder.get('id')} {hname} ({rep.holder.get('kind') or '?'})".replace("  ", " "))
    elif rep.status:
        t.add_row("where now", "at our site" if rep.status in ("in_stock", "quarantined") else str(rep.status))
    if rep.container:
        t.add_row("packed in", rep.container)
    if rep.last_shipment:
        sh = rep.last_shipment
        t.add_row("last shipment", f"{sh.get('id')} {sh.get('date') or ''} {sh.get('status') or ''}".strip())
    if rep.units_by_status:
        t.add_row("units", ", ".join(f"{k}: {v}" for k, v in sorted(rep.units_by_status.items())))
    if rep.upstream:
        t.add_row("came from", ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in rep.upstream.items()))
    for w in rep.warnings:
        t.add_row("[red]WARNING[/red]", f"[red]{w}[/red]")
    console.print(t)


@clean_errors
def scan_cmd(
    text: str = typer.Argument(..., help="UDI / GS1 barcode string, EPC URI, Digital Link or key"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read a UDI / GS1 barcode (GS1-128 with GS separators, (01)..(21).. text, Digital Link, EPC URI)
    and show what it is, where it is now, and how many lots and batches it came from.

    Example: tracegraph scan "(01)09506000134352(17)271231(10)B-2026-001(21)SN000123"
    """
    from tracegraph.engine.trace.scan import scan

    s = store()
    try:
        rep = scan(s, text)
    finally:
        s.close()
    if as_json:
        print_json(rep.model_dump())
    else:
        _show(rep)


@clean_errors
def export_epcis_cmd(
    out: Path = typer.Argument(..., help="file to write (.jsonld, .json or .xml); '-' for stdout"),
    fmt: str = typer.Option("auto", "--format",
                            help="jsonld, xml (EPCIS 2.0 XML), xml-1.2 (EPCIS 1.2 XML); auto: from OUT's suffix"),
    batch: Optional[str] = typer.Option(None, "--batch", help="one batch and its serials"),
    lot: Optional[str] = typer.Option(None, "--lot", help="a material lot's forward trace"),
    all_: bool = typer.Option(False, "--all", help="the whole graph (default)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a GS1 EPCIS document for a batch, a lot's forward trace, or everything: EPCIS 2.0
    JSON-LD (validated against GS1's JSON Schema) or EPCIS 2.0 / 1.2 XML (validated against
    GS1's XSD).

    Example: tracegraph export epcis --batch B-2026-001 batch.jsonld
    Example: tracegraph export epcis --all --format xml-1.2 partner.xml
    """
    from tracegraph.loaders.epcis_export import ExportScope, export_epcis

    if sum(bool(x) for x in (batch, lot, all_)) > 1:
        raise ValidationFailed("give only one of --batch, --lot, --all")
    if fmt == "auto":
        fmt = "xml" if out.suffix.lower() == ".xml" else "jsonld"
    if fmt not in ("jsonld", "xml", "xml-1.2"):
        raise ValidationFailed(f"unknown --format {fmt!r}", hint="use jsonld, xml or xml-1.2")
    scope = ExportScope(kind="batch", id=batch) if batch else ExportScope(kind="lot", id=lot) if lot \
        else ExportScope(kind="all")
    s = store()
    try:
        with console.status("exporting EPCIS events"):
            doc = export_epcis(s, scope)
    finally:
        s.close()
    n = len(doc["epcisBody"]["eventList"])
    if fmt != "jsonld":  # the same document as EPCIS XML (loaders/epcis_xml_out.py), XSD-checked
        from tracegraph.loaders.epcis_xml_out import document_to_xml

        text = document_to_xml(doc, "1.2" if fmt == "xml-1.2" else "2.0").decode("utf-8").rstrip("\n")
    else:
        text = json.dumps(doc, indent=2, ensure_ascii=False)
    if str(out) == "-":
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    summary = {"file": str(out), "events": n, "format": fmt, "scope": scope.model_dump()}
    if as_json:
        print_json(summary)
    else:
        console.print(f"wrote {n} EPCIS events to {out}")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_cmd)
    export_app.command("epcis")(export_epcis_cmd)
    app.add_typer(export_app, name="export")
