"""Audit trail benchmark: concurrent writers, verify throughput, and what the audit costs a write.

    python -m perf.bench_audit                       # 16 writers x 1000, 200k-entry verify
    python -m perf.bench_audit --writers 16 --per 1000 --verify-entries 200000 --fsync always
    python -m perf.bench_audit --json > audit.json

Everything runs on a private embedded FalkorDB in a temporary folder (stopped at the end):
1. concurrency: W threads each create a Customer then update it P-1 times through
   `commands.update` (one audited statement each); then `verify` must find 0 lost, no fork
   (seq contiguous and unique, W*P entries, every record's last value as written);
2. verify throughput: a valid chain of N entries written in bulk (same fields and hashes as
   real entries), verified with and without the record-state check; goal >= 100k entries/s;
3. write cost: the same single-node update sent K times as a plain statement and as the
   audited statement (guard + update + append, plus reading the head and hashing the entry);
   goal: audited <= 1.2x plain. Same process, same database, same fsync setting.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

from tracegraph.engine import commands
from tracegraph.engine.audit.chain import GENESIS_HASH, Actor, AuditSpec, Change, audited_write, build_entry
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.engine.stores.server import EmbeddedServer

QA = Actor("bench", "Bench Runner", frozenset({"qa_manager"}), session="bench")
PLAIN_UPDATE = (
    "MATCH (n:Customer {id: $key}) WHERE coalesce(n.retired, false) = false OR $allow_retired "
    "SET n += $props RETURN n.id AS id"
)


def _store(server: EmbeddedServer, graph: str) -> FalkorDBStore:
    s = FalkorDBStore(unix_socket_path=str(server.socket_path), graph=graph, server=server)
    s.apply_schema()
    return s


def bench_concurrency(server: EmbeddedServer, writers: int, per: int, shared: bool) -> dict[str, Any]:
    store = _store(server, "bench_concurrency")
    errors: list[str] = []

    def work(t: int) -> None:
        # own connection per writer (like separate processes, racing the CAS) unless shared
        own = store if shared else FalkorDBStore(unix_socket_path=str(server.socket_path), graph="bench_concurrency")
        try:
            key = f"C-{t}"
            commands.create(own, "Customer", key, {"name": f"Customer {t}", "n": 0}, QA)
            for i in range(1, per):
                commands.update(own, "Customer", key, {"n": i}, QA)
        except Exception as exc:  # reported in the result
            errors.append(repr(exc))
        finally:
            if own is not store:
                own.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(t,)) for t in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - started
    report = verify(store)
    seqs = [r["s"] for r in store.run("MATCH (e:AuditEntry) RETURN e.seq AS s ORDER BY s", write=False)]
    expected = writers * per
    finals = store.run("MATCH (c:Customer) RETURN c.n AS n", write=False)
    out = {
        "mode": "one shared store (threads queue on a process lock)" if shared else "one connection per writer (CAS races)",
        "writers": writers,
        "commands_per_writer": per,
        "commands": expected,
        "seconds": round(seconds, 2),
        "commands_per_s": round(expected / seconds, 1),
        "entries": len(seqs),
        "lost": expected - len(seqs),
        "contiguous_unique": seqs == list(range(1, expected + 1)),
        "records_at_last_value": sum(1 for r in finals if r["n"] == per - 1),
        "verify_ok": report.ok,
        "verify_entries_per_s": report.entries_per_second,
        "errors": errors[:5],
    }
    store.drop_graph()
    store.close()
    return out


def _bulk_chain(store: FalkorDBStore, n: int, targets: int = 1000) -> None:
    """A valid chain of n entries about `targets` Customers, written in bulk statements."""
    store.run("UNWIND range(0, $n - 1) AS i CREATE (:Customer {id: 'V-' + toString(i), name: 'v', n: 0})",
              {"n": targets})
    prev, batch, seq = GENESIS_HASH, [], 0
    ts = "2026-01-01T00:00:00.000000+00:00"
    for seq in range(1, n + 1):
        key = f"V-{seq % targets}"
        old = max(0, seq - targets)
        spec = AuditSpec("update", "Customer", key, [Change("n", old, seq)], "bulk bench")
        e = build_entry(seq, prev, QA, spec, ts)
        prev = e["hash"]
        batch.append(e)
        if len(batch) == 10_000 or seq == n:
            store.run(
                "UNWIND $rows AS r CREATE (e:AuditEntry) SET e = r WITH e, r "
                "MATCH (c:Customer {id: r.target_key}) CREATE (e)-[:ABOUT]->(c)",
                {"rows": batch},
            )
            batch = []
    store.run("MATCH (e:AuditEntry) WHERE e.seq > 1 MATCH (p:AuditEntry {seq: e.seq - 1}) CREATE (e)-[:PREV]->(p)")
    finals = {}
    for seq in range(max(1, n - targets + 1), n + 1):
        finals[f"V-{seq % targets}"] = seq
    store.run("UNWIND $rows AS r MATCH (c:Customer {id: r.k}) SET c.n = r.n",
              {"rows": [{"k": k, "n": v} for k, v in finals.items()]})
    store.run("MATCH (h:AuditHead) SET h.seq = $seq, h.hash = $hash", {"seq": n, "hash": prev})


def bench_verify(server: EmbeddedServer, n: int, repeat: int = 3) -> dict[str, Any]:
    store = _store(server, "bench_verify")
    t0 = time.perf_counter()
    _bulk_chain(store, n)
    build = time.perf_counter() - t0
    chain_only, with_state = [], []
    ok = True
    for _ in range(repeat):
        r = verify(store, check_state=False)
        ok = ok and r.ok
        chain_only.append(r.entries_per_second)
        r2 = verify(store)
        ok = ok and r2.ok
        with_state.append(r2.entries_per_second)
        problems = [p.message for p in r2.problems[:3]]
    store.drop_graph()
    store.close()
    return {
        "entries": n,
        "build_seconds": round(build, 1),
        "verify_ok": ok,
        "chain_only_entries_per_s_median": round(statistics.median(chain_only), 0),
        "with_state_entries_per_s_median": round(statistics.median(with_state), 0),
        "runs": repeat,
        "goal_entries_per_s": 100_000,
        "problems": problems,
    }


def bench_write_cost(server: EmbeddedServer, k: int) -> dict[str, Any]:
    store = _store(server, "bench_cost")
    commands.create(store, "Customer", "W-1", {"name": "w", "n": 0}, QA)
    commands.create(store, "Customer", "W-2", {"name": "w", "n": 0}, QA)

    def plain(i: int) -> None:
        store.run(PLAIN_UPDATE, {"key": "W-1", "props": {"n": i, "updated_at": "x"}, "allow_retired": False})

    def audited(i: int) -> None:
        audited_write(
            store, "commands.update.Customer",
            lambda: ({"key": "W-2", "props": {"n": i, "updated_at": "x"}, "allow_retired": False},
                     AuditSpec("update", "Customer", "W-2", [Change("n", i - 1, i), Change("updated_at", "x", "x")])),
            QA,
        )

    results: dict[str, list[float]] = {"plain": [], "audited": []}
    for rnd in range(3):  # interleaved rounds so background load hits both alike
        for name, fn in (("plain", plain), ("audited", audited)):
            t0 = time.perf_counter()
            for i in range(rnd * k + 1, rnd * k + k + 1):
                fn(i)
            results[name].append((time.perf_counter() - t0) / k * 1000)
    p, a = statistics.median(results["plain"]), statistics.median(results["audited"])
    store.drop_graph()
    store.close()
    return {
        "writes_per_round": k,
        "rounds": 3,
        "plain_ms_per_write": round(p, 3),
        "audited_ms_per_write": round(a, 3),
        "audited_over_plain": round(a / p, 3),
        "overhead_percent": round((a / p - 1) * 100, 1),
        "goal_overhead_percent": 20,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writers", type=int, default=16)
    ap.add_argument("--per", type=int, default=1000)
    ap.add_argument("--verify-entries", type=int, default=200_000)
    ap.add_argument("--cost-writes", type=int, default=500)
    ap.add_argument("--fsync", choices=["always", "everysec", "no"], default="always")
    ap.add_argument("--shared-store", action="store_true", help="writers share one store object")
    ap.add_argument("--only", default="cost,concurrency,verify", help="comma-separated parts to run")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    say = (lambda m: print(m, file=sys.stderr, flush=True))
    with tempfile.TemporaryDirectory(prefix="tg-bench-audit-") as d:
        server = EmbeddedServer(d, appendfsync=a.fsync)
        server.ensure_running()
        try:
            parts = set(a.only.split(","))
            conc: dict[str, Any] = {}
            ver: dict[str, Any] = {}
            cost: dict[str, Any] = {}
            if "cost" in parts:
                say(f"write cost: {a.cost_writes} x 3 rounds, plain vs audited (fsync {a.fsync}) ...")
                cost = bench_write_cost(server, a.cost_writes)
                say(f"  {cost}")
            if "concurrency" in parts:
                say(f"concurrency: {a.writers} writers x {a.per} commands ...")
                conc = bench_concurrency(server, a.writers, a.per, a.shared_store)
                say(f"  {conc}")
            if "verify" in parts:
                say(f"verify throughput: {a.verify_entries:,} entries ...")
                ver = bench_verify(server, a.verify_entries)
                say(f"  {ver}")
        finally:
            server.stop()
    result = {"fsync": a.fsync, "concurrency": conc, "verify": ver, "write_cost": cost,
               "machine_note": "2 shared cores; other engineers' jobs ran at the same time"}
    print(json.dumps(result, indent=2))
    ok = (not conc or (conc["lost"] == 0 and conc["contiguous_unique"] and conc["verify_ok"])) and (
        not ver or ver["verify_ok"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
