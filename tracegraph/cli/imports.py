"""`tracegraph import` (ERP bundles, all or nothing) and `tracegraph generate` (a synthetic plant)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, err_console, print_json, store
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import ValidationFailed


def _actor() -> Actor:
    import getpass

    try:
        user = getpass.getuser()
    except Exception:  # pragma: no cover - no login name in some containers
        user = "cli"
    return Actor(id=f"cli:{user}", name=f"{user} (command line)", roles=frozenset({"importer"}))


@contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=max(total, 1))
            bar.update(tasks[phase], completed=done, total=max(total, done, 1))

        yield update


def _print_report(rep: Any, notes: list[str]) -> None:
    t = Table("records", "new", "changed", "unchanged", title=f"import {rep.import_id}: {rep.status}")
    for k, c in rep.counts.items():
        if c.new or c.changed or c.unchanged:
            t.add_row(k, str(c.new), str(c.changed), str(c.unchanged))
    console.print(t)
    if rep.changes:
        ct = Table("record", "key", "field", "before", "after", title="changes to existing records")
        for ch in rep.changes[:50]:
            ct.add_row(ch["label"], str(ch["key"]), ch["field"], repr(ch["old"]), repr(ch["new"]))
        console.print(ct)
    for n in notes:
        console.print(f"[yellow]note:[/yellow] {n}")
    if not rep.dry_run and rep.seconds:
        console.print(f"{rep.items_written} items written in {rep.seconds:.1f} s ({rep.items_per_s:,.0f} items/s), "
                      f"{rep.audit_entries} audit entries")
    if rep.message:
        console.print(rep.message)


def import_cmd(
    path: Optional[Path] = typer.Argument(
        None, help="Bundle folder or .zip (CSV or JSONL files), or an EPCIS file (2.0 JSON-LD document, "
                   "bare event or event array; 1.2 / 2.0 XML)."),
    fmt: str = typer.Option("auto", "--format", help="auto (from the content), bundle, epcis-json or epcis-xml."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and show what would change; write nothing."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Finish an interrupted import (ID)."),
    rollback: Optional[str] = typer.Option(None, "--rollback", help="Undo an import that did not commit (ID)."),
    list_runs: bool = typer.Option(False, "--list", help="List recent imports."),
    chunk_size: int = typer.Option(100_000, "--chunk-size", min=1, help="Records per write statement (the runner's default)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import an ERP bundle (folder or zip of CSV/JSONL files) or an EPCIS file, all or nothing.

    The format is read from the content (--format auto): a folder or zip is a bundle, a file
    starting with '<' EPCIS XML (1.2 or 2.0, checked against GS1's XSD), a JSON file an EPCIS
    document, a bare event or an array of events.

    The whole bundle is validated first; every problem is listed with file, row and field,
    and nothing is written. An interrupted import is rolled back or finished automatically
    at the next import, or by hand with --rollback ID / --resume ID.

    Example: tracegraph import ./erp-export-2026-03.zip --dry-run
    """
    from tracegraph.engine.imports import runner as imp

    st = store()
    try:
        actor = _actor()
        if list_runs:
            runs = imp.list_imports(st)
            if as_json:
                print_json([r.model_dump() for r in runs])
                return
            t = Table("id", "status", "actor", "started", "finished", "files", "rows")
            for r in runs:
                t.add_row(r.id, r.status, r.actor, r.started_at[:19], (r.finished_at or "")[:19], str(len(r.files)),
                          f"{sum(int(f.get('rows') or 0) for f in r.files):,}")
            console.print(t)
            return
        # EPCIS runs are ImportRuns too; their rollback/finish uses the EPCIS writer (loaders/epcis_write.py)
        from tracegraph.loaders import epcis_write

        if rollback:
            undo = epcis_write.rollback_run if epcis_write.is_epcis_run(st, rollback) else imp.rollback_import
            with _progress(not as_json) as prog:
                rep = undo(st, rollback, actor, progress=prog)
            print_json(rep.model_dump()) if as_json else _print_report(rep, [])
            return
        if resume and path is None and epcis_write.is_epcis_run(st, resume) \
                and imp.get_import(st, resume).status != "staging":
            with _progress(not as_json) as prog:
                rep = epcis_write.finish_run(st, resume, actor, progress=prog)
            print_json(rep.model_dump()) if as_json else _print_report(rep, [])
            return
        from tracegraph.loaders.epcis_input import FORMATS, detect_format

        if fmt not in FORMATS:
            raise ValidationFailed(f"unknown --format {fmt!r}", hint="use " + ", ".join(FORMATS))
        kind = None
        if path is not None:
            kind = detect_format(path) if fmt == "auto" else fmt
            if kind is None:
                raise ValidationFailed(
                    f"{path} is neither an ERP bundle (folder or zip) nor an EPCIS document (JSON-LD or XML)"
                    + ("" if path.exists() else ": it does not exist"),
                    hint="give a bundle folder/zip, an EPCIS 2.0 JSON-LD file or an EPCIS 1.2/2.0 XML file")
        if kind in ("epcis-json", "epcis-xml"):
            # EPCIS documents, bare events and XML (dispatch on content, loaders/epcis_input.py)
            from tracegraph.loaders.epcis import load_epcis, resume_epcis_import, run_epcis_import

            if path is not None:
                ebatch = load_epcis(path, st, kind)
                files = [imp.SourceFile.of_path(path)]
                with _progress(not as_json and not dry_run) as prog:
                    if resume:
                        rep = resume_epcis_import(st, resume, ebatch, actor, source_files=files, progress=prog,
                                                  chunk_size=chunk_size)
                    else:
                        rep = run_epcis_import(st, ebatch, actor, source_files=files, dry_run=dry_run,
                                               progress=prog, chunk_size=chunk_size)
                print_json(rep.model_dump()) if as_json else _print_report(rep, [])
                return
        bundle = None
        if path is not None:
            from tracegraph.loaders.bundle import load_bundle

            bundle = load_bundle(path)
        if resume:
            with _progress(not as_json) as prog:
                rep = imp.resume_import(st, resume, actor, batch=bundle.batch if bundle else None,
                                        source_files=bundle.files if bundle else None, progress=prog,
                                        chunk_size=chunk_size)
            print_json(rep.model_dump()) if as_json else _print_report(rep, bundle.notes if bundle else [])
            return
        if bundle is None:
            raise ValidationFailed("give a bundle folder or zip to import", hint="tracegraph import ./export --dry-run")
        with _progress(not as_json and not dry_run) as prog:
            rep = imp.run_import(st, bundle.batch, actor, source_files=bundle.files, dry_run=dry_run,
                                 progress=prog, chunk_size=chunk_size)
        if as_json:
            out = rep.model_dump()
            out["notes"] = bundle.notes
            print_json(out)
        else:
            _print_report(rep, bundle.notes)
    finally:
        st.close()


def generate_cmd(
    out: Path = typer.Argument(..., help="Output folder (created)."),
    serials: int = typer.Option(1000, "--serials", min=1, help="How many units (serials) the plant made."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same bytes."),
    fmt: str = typer.Option("csv", "--format", help="csv, epcis or both."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Generate a realistic synthetic plant (suppliers to hospitals) as an ERP bundle.

    Deterministic: the same --serials and --seed give byte-identical files. Rows are
    streamed to disk, so 10 million serials fit in little memory.

    Example: tracegraph generate --serials 100000 --seed 7 ./plant-100k
    """
    from tracegraph.loaders.generator import generate_bundle

    if fmt not in ("csv", "epcis", "both"):
        raise ValidationFailed(f"unknown --format {fmt!r}", hint="use csv, epcis or both")
    with Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=as_json) as bar:
        task = bar.add_task("serials", total=serials)
        stats = generate_bundle(out, serials=serials, seed=seed, fmt=fmt,
                                progress=lambda done: bar.update(task, completed=done))
    if as_json:
        print_json(stats)
    else:
        t = Table("file", "rows", title=f"plant of {serials} serials (seed {seed}) in {out}")
        for k, v in stats["rows"].items():
            t.add_row(k, f"{v:,}")
        console.print(t)


def register(app: typer.Typer) -> None:
    app.command("import")(clean_errors(import_cmd))
    app.command("generate")(clean_errors(generate_cmd))
