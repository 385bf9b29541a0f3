"""`python -m perf run|chart`: the traversal benchmark with its baselines in the same run.

Examples:
    python -m perf run --size S
    python -m perf run --size M --scenarios lot_impact supplier_impact --repeat 50
    python -m perf run --size S --json > s.json
    python -m perf chart
    python -m perf report
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from perf.harness import peak_rss_mb, plant, write_results
from perf.scenarios import SCENARIOS, SYSTEMS, build_systems, goals, ratios, run

err = Console(stderr=True, highlight=False)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 140)


def _table(rows: list[dict[str, Any]], size: str) -> Table:
    tg: dict[str, dict[str, Any]] = {}
    for name in ("falkordb-cypher", "tracegraph"):  # the engine wins when it is there
        tg.update({r["scenario"]: r for r in rows if r["system"] == name})
    t = Table(title=f"traversal benchmark, size {size} (x = system p50 / tracegraph p50)")
    for col in ("scenario", "system", "p50 ms", "p95 ms", "p99 ms", "items/call", "items/s", "x tracegraph", "ok"):
        t.add_column(col, justify="left" if col in ("scenario", "system") else "right")
    def num(v: Any, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    for r in rows:
        ref = tg.get(r["scenario"])
        ratio = ""
        if ref and ref is not r and ref.get("p50_ms") and r.get("p50_ms"):
            ratio = f"{r['p50_ms'] / ref['p50_ms']:.1f}x"
        ok = "[green]yes[/]" if r["verified"] else "[bold red]MISMATCH[/]"
        if r.get("note"):
            ok = f"[yellow]{r['note'][:40]}[/]"
        t.add_row(
            r["scenario"], r["system"], num(r["p50_ms"], ".3f"), num(r["p95_ms"], ".3f"), num(r["p99_ms"], ".3f"),
            num(r.get("items_per_call"), ",.0f"), num(r.get("items_per_s"), ",.0f"), ratio, ok,
        )
    return t


def cmd_run(a: argparse.Namespace) -> int:
    started = time.perf_counter()
    say = (lambda m: err.print(m)) if not a.quiet else (lambda m: None)
    h = plant(a.size, say=say, rebuild=a.rebuild, generator=a.generator)
    try:
        say(f"plant {h.size}: {h.plant.n_nodes:,} nodes, {h.plant.n_edges:,} edges (loader {h.loader})")
        systems = build_systems(h, a.systems, say)
        # every system's data (networkx's millions of objects, the trace index, ...) is built now:
        # move it out of the collector's reach so no system pays for another's heap in a timed call
        gc.collect()
        gc.freeze()
        rows, mismatches = run(h, a.scenarios, systems, a.repeat, say)
        meta = {
            "size": h.size,
            "plant": {**h.counts(), "loader": h.loader, "load_seconds": h.load_seconds,
                      "generator": "perf.plants (numpy, seed 7)" if a.generator == "perf"
                      else "tracegraph.loaders.generator.generate_plant (seed 7)"},
            "db_memory": h.db_memory(),
            "peak_rss_mb": peak_rss_mb(),
            "systems": [s.name for s in systems],
            # seconds to build the trace index from the database, per engine system that uses it
            "index_build_s": {s.name: s.index_build_s for s in systems if getattr(s, "index_build_s", None)},
            "repeat": a.repeat,
            "ratios": ratios(rows),
            "goals": goals(rows),
            "mismatches": [m.to_dict() for m in mismatches],
            "wall_seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        h.close()
    path = write_results(f"perf-{h.size}", rows, meta)
    from perf.chart import draw

    chart = draw()
    if a.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        out.print(_table(rows, h.size))
        for g in meta["goals"]:
            mark = "[green]met[/]" if g["met"] else "[red]missed[/]"
            val = f"{g['value_ms']:.3f} ms" if "value_ms" in g else f"{g['ratio']}x"
            out.print(f"goal ({g['system']}): {g['goal']}: {val} -> {mark}")
        out.print(f"db memory {meta['db_memory']['used_memory_mb']} MB, peak RSS {meta['peak_rss_mb']} MB; "
                  f"results {path}; chart {chart}")
    if mismatches:
        err.print(f"[bold red]{len(mismatches)} answer mismatch(es) between systems: see meta.mismatches in {path}[/]")
        return 3
    return 0


def _ms(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def cmd_report(a: argparse.Namespace) -> int:
    """A markdown table of the newest result file per size (for docs/perf.md)."""
    from perf.harness import read_results

    latest: dict[str, dict[str, Any]] = {}
    for doc in read_results():
        latest[str(doc["meta"].get("size"))] = doc
    for size, doc in latest.items():
        m = doc["meta"]
        plant_info = m.get("plant", {})
        out.print(f"\n### {size}: {plant_info.get('nodes', 0):,} nodes, {plant_info.get('edges', 0):,} edges "
                  f"({m.get('written_at')}, load avg {m['machine'].get('load_avg')}, db {m.get('db_memory', {}).get('used_memory_mb')} MB)\n")
        systems = [s for s in m.get("systems", [])]
        out.print("| scenario | " + " | ".join(systems) + " |")
        out.print("|---|" + "---:|" * len(systems))
        scen = list(dict.fromkeys(r["scenario"] for r in doc["rows"]))
        for sc in scen:
            cells = []
            for sy in systems:
                r = next((r for r in doc["rows"] if r["scenario"] == sc and r["system"] == sy), None)
                if r is None or r.get("p50_ms") is None:
                    cells.append("error" if r else "")
                else:
                    star = "*" if r.get("note") else ""
                    cells.append(f"{_ms(r['p50_ms'])}{star} / {_ms(r['p95_ms'])}")
            out.print(f"| {sc} | " + " | ".join(cells) + " |")
    return 0


def cmd_chart(a: argparse.Namespace) -> int:
    from perf.chart import draw

    out.print(f"wrote {draw()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m perf", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="build/reuse a plant and time every system on every scenario")
    r.add_argument("--size", default="S", help="S=100k, M=1M, L=10M, XL=100M serials, or a number (default S)")
    r.add_argument("--json", action="store_true", help="print the result rows as one JSON list")
    r.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    r.add_argument("--systems", nargs="+", default=list(SYSTEMS),
                   choices=list(SYSTEMS), help="systems to compare (first = reference answer)")
    r.add_argument("--repeat", type=int, default=30, help="timed calls per scenario and system (default 30)")
    r.add_argument("--rebuild", action="store_true", help="regenerate and reload the plant")
    r.add_argument("--generator", choices=["perf", "tracegraph"], default="perf",
                   help="perf: numpy plant + bulk UNWIND load (default); tracegraph: the product's "
                   "generator loaded through the audited importer (slower to build)")
    r.add_argument("--quiet", action="store_true", help="no progress on stderr")
    r.set_defaults(fn=cmd_run)
    c = sub.add_parser("chart", help="redraw perf/results/latency.png from every result file")
    c.set_defaults(fn=cmd_chart)
    rp = sub.add_parser("report", help="markdown table (p50 / p95 ms) of the newest result per size")
    rp.set_defaults(fn=cmd_report)
    a = ap.parse_args(argv)
    return int(a.fn(a))


if __name__ == "__main__":
    raise SystemExit(main())
