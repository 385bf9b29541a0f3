"""`tracegraph demo`: the main job of the quick start.

Starts the embedded database, loads a realistic synthetic plant (once; a re-run reuses it),
creates demo users, answers the recall coordinator's first question (a supplier's bad lot:
which batches, serials, customers, where are the units) and runs a timed mock recall, then
serves the API and dashboard. Every write goes through the same audited engine commands as
production use.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, print_json, settings

if TYPE_CHECKING:
    from tracegraph.engine.access.actor import Actor
    from tracegraph.engine.stores.base import GraphStore
    from tracegraph.engine.trace.impact import Engine
    from tracegraph.engine.trace.models import ImpactResult

DEMO_USERS = (
    # username, printed name, roles
    ("recall.coord", "Li Wei (Recall Coordinator)", ["recall_coordinator", "viewer"]),
    ("qa.lead", "Maria Garcia (QA Manager)", ["qa", "qa_manager"]),
    ("complaints", "Sam Okafor (Complaint Handler)", ["complaint_handler"]),
)


def _credentials(data_dir: Path) -> dict[str, str]:
    """Demo passwords: random per data folder, kept in a 0600 file (never in the repo)."""
    path = data_dir / "demo-credentials.json"
    if path.exists():
        saved: dict[str, str] = json.loads(path.read_text())  # written below: user -> password
        return saved
    creds = {"admin": "Adm-" + secrets.token_urlsafe(12)}
    for username, _, _ in DEMO_USERS:
        creds[username] = "Demo-" + secrets.token_urlsafe(12)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh, indent=2)
    return creds


def _ensure_users(store: GraphStore, creds: dict[str, str]) -> Actor:
    from tracegraph.engine.access import auth

    if auth.get_user(store, "admin") is None:
        auth.init_admin(store, "admin", "Demo Administrator", creds["admin"])
    admin = auth.authenticate(store, "admin", creds["admin"], session="demo")
    for username, name, roles in DEMO_USERS:
        if auth.get_user(store, username) is None:
            auth.add_user(store, admin, username, name, creds[username], roles, reason="demo set-up")
    return admin


def _load_plant(store: GraphStore, serials: int, seed: int, admin: Actor) -> dict[str, Any]:
    from tracegraph.engine.imports.runner import SourceFile, run_import
    from tracegraph.loaders.generator import generate_plant

    have = store.read("demo.loaded")[0]["serials"]
    if have:
        return {"reused": True, "serials": have}
    t0 = time.perf_counter()
    batch = generate_plant(serials, seed)
    gen_s = time.perf_counter() - t0
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("importing the demo plant", total=None)

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(task, description=f"import: {phase}", completed=done, total=total or None)

        report = run_import(store, batch, admin, source_files=[SourceFile(name=f"generated plant seed={seed}",
                                                                          sha256="", rows=0)],
                            progress=progress)
    return {"reused": False, "serials": serials, "generate_s": round(gen_s, 2), "import_s": round(report.seconds, 2),
            "items": report.items_written, "items_per_s": round(report.items_per_s)}


@clean_errors
def demo(
    serials: int = typer.Option(20_000, "--serials", min=100, help="Size of the demo plant in serialised units."),
    seed: int = typer.Option(7, "--seed", help="Seed of the synthetic plant (same seed, same plant)."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the API and dashboard at the end."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the demo: embedded database, a realistic plant, an impact analysis, a mock recall, the API.

    Example: tracegraph demo --serials 20000 --no-serve
    """
    from tracegraph.engine.recall.drill import run_demo_recall
    from tracegraph.engine.stores import open_store
    from tracegraph.engine.trace import index as trace_index
    from tracegraph.engine.trace.impact import impact
    from tracegraph.engine.trace.models import ImpactCause

    s = settings()
    store = open_store(s)
    summary: dict[str, Any] = {"database": store.location, "data_dir": str(Path(s.data_dir).resolve())}
    try:
        creds = _credentials(Path(s.data_dir))
        admin = _ensure_users(store, creds)
        summary["plant"] = _load_plant(store, serials, seed, admin)
        suspect = store.read("demo.suspect_lot")[0]
        cause = ImpactCause(lots=[suspect["lot"]])

        def timed(engine: Engine) -> tuple[ImpactResult, float]:
            """The answer and the median of 3 timed calls after a warm-up (first calls pay imports)."""
            impact(store, cause, engine=engine)
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                r = impact(store, cause, engine=engine)
                times.append((time.perf_counter() - t0) * 1000)
            return r, sorted(times)[1]

        by_graph, graph_ms = timed("cypher")
        index_info = None
        if s.trace_index != "off":
            ix = trace_index.refresh(store)
            index_info = {"nodes": ix.n_nodes, "edges": ix.n_edges, "build_s": round(ix.build_s, 2)}
        result, index_ms = timed("auto")
        summary["impact"] = {
            "lot": suspect["lot"], "supplier": suspect["supplier_name"],
            "elapsed_ms": round(index_ms, 2), "engine": result.engine,
            "graph_only_ms": round(graph_ms, 2), "trace_index": index_info,
            "counts": result.counts if isinstance(result.counts, dict) else result.counts.model_dump(),
        }
        if result.counts != by_graph.counts:  # the two paths must agree; say so loudly if not
            raise RuntimeError(f"trace index and graph disagree: {result.counts} vs {by_graph.counts}")
        coord = _actor_for(store, "recall.coord", creds)
        out_dir = Path(s.data_dir) / "drills"
        summary["mock_recall"] = run_demo_recall(store, coord, out_dir, cause=cause)
        summary["users"] = {u: {"password_file": str(Path(s.data_dir) / "demo-credentials.json")} for u in creds}
    finally:
        store.close()
    if as_json:
        print_json(summary)
    else:
        _print(summary, result)
    if serve:
        from tracegraph.cli.serve import serve as run_server

        console.print(f"\nlog in at http://{host}:{port}/ as [bold]recall.coord[/bold] "
                      f"(passwords in {Path(s.data_dir) / 'demo-credentials.json'}); Ctrl-C stops")
        run_server(host=host, port=port, dev=False, workers=1, log_level="warning", keep_db=True)


def _actor_for(store: GraphStore, username: str, creds: dict[str, str]) -> Actor:
    from tracegraph.engine.access import auth

    return auth.authenticate(store, username, creds[username], session="demo")


def _print(summary: dict[str, Any], result: ImpactResult) -> None:
    plant = summary["plant"]
    if plant.get("reused"):
        console.print(f"[bold]plant[/bold]: reusing {plant['serials']:,} serials already in {summary['data_dir']}")
    else:
        console.print(f"[bold]plant[/bold]: generated {plant['serials']:,} serials in {plant['generate_s']} s, "
                      f"imported {plant['items']:,} nodes+edges in {plant['import_s']} s "
                      f"({plant['items_per_s']:,} items/s, all-or-nothing, audited)")
    imp = summary["impact"]
    how = (f"trace index of {imp['trace_index']['nodes']:,} nodes / {imp['trace_index']['edges']:,} edges, "
           f"built in {imp['trace_index']['build_s']} s" if imp.get("trace_index") else "the graph")
    console.print(f"\n[bold]supplier {imp['supplier']} reports a bad lot {imp['lot']}[/bold]: "
                  f"answered in {imp['elapsed_ms']} ms ({how}; the graph alone: {imp['graph_only_ms']} ms; medians of 3 warm calls, full answer with paths)")
    t = Table("what", "how many")
    for k, v in imp["counts"].items():
        if isinstance(v, (int, float)):
            t.add_row(str(k), f"{v:,}")
    console.print(t)
    by_status = getattr(result, "by_status", None)
    if by_status:
        t = Table("where the units are now", "units")
        for k, v in (by_status.items() if isinstance(by_status, dict) else []):
            t.add_row(str(k), f"{v:,}")
        console.print(t)
    mr = summary["mock_recall"]
    if "skipped" in mr:
        console.print(f"mock recall skipped: {mr['skipped']}")
        return
    console.print(f"\n[bold]mock recall drill {mr['drill']}[/bold]: {mr['units']:,} units, {mr['customers']:,} customers, "
                  f"{mr['letters']} letters, total {mr['total_ms']:.0f} ms; real data untouched: {mr['real_data_untouched']}")
    t = Table("step", "ms")
    for k, v in mr["timings_ms"].items():
        t.add_row(k, f"{v:.1f}")
    console.print(t)
    console.print(f"drill report: {mr['report_pdf']}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
