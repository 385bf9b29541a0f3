"""Draw latency (p50) against plant size, one panel per scenario, one line per system,
from every perf/results/perf-*.json (the newest result per size and system wins)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perf.harness import RESULTS_DIR, read_results


def latest_rows(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows keyed by (scenario, system, size); later files override earlier ones."""
    keyed: dict[tuple[str, str, str], dict[str, Any]] = {}
    for doc in docs:
        for r in doc.get("rows", []):
            if not str(r["size"]).endswith("-tg"):  # the product-generator runs are not on the size axis
                keyed[(r["scenario"], r["system"], str(r["size"]))] = r
    return list(keyed.values())


def draw(out: Path | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from perf.scenarios import SCENARIOS

    rows = latest_rows(read_results())
    order = ["tracegraph", "falkordb-cypher", "tracegraph-bolt", "sqlite-cte", "sqlite-erp", "networkx", "scipy-csr"]
    names = order + sorted({r["system"] for r in rows} - set(order))
    colors = {name: f"C{i % 10}" for i, name in enumerate(names)}
    out = out or RESULTS_DIR / "latency.png"
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    for ax, scenario in zip(axes.flat, SCENARIOS):
        present = {r["system"] for r in rows if r["scenario"] == scenario}
        systems = [n for n in names if n in present]
        for system in systems:
            pts = sorted((int(r["serials"]), float(r["p50_ms"]), float(r["p95_ms"]))
                         for r in rows if r["scenario"] == scenario and r["system"] == system and r.get("p50_ms") is not None)
            if not pts:
                continue
            xs, p50, p95 = zip(*pts)
            ax.plot(xs, p50, marker="o", label=system, color=colors[system])
            ax.fill_between(xs, p50, p95, color=colors[system], alpha=0.12)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(scenario.replace("_", " "))
        ax.set_xlabel("plant size (serials)")
        ax.set_ylabel("latency p50 (ms; band to p95)")
        ax.grid(True, which="both", alpha=0.3)
        if systems:
            ax.legend(fontsize=8)
    fig.suptitle("tracegraph vs baselines: latency vs plant size (same run per size)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


__all__ = ["draw", "latest_rows"]
