"""SQLite's best case: one clean edge table and a recursive CTE (UNION = visited set).

Tables: nodes(i, key, label, holder = current customer of a serial) and edges(src, dst) with covering indexes both ways,
usage(eq, t_from, t_to, batch) for the equipment window. Built once per plant and cached.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from perf.baselines import Answer
from perf.plants import LABEL_CODE, Plant

SER, CUS = LABEL_CODE["Serial"], LABEL_CODE["Customer"]

_FWD = """
WITH RECURSIVE r(n) AS ({seed} UNION SELECT e.dst FROM edges e JOIN r ON e.src = r.n)
SELECT n.key, n.label, h.key FROM r JOIN nodes n ON n.i = r.n LEFT JOIN nodes h ON h.i = n.holder
"""
# (no `WHERE n.label = ...` in SQL: SQLite 3.40 then builds a Bloom filter by scanning all nodes,
# 50 ms even for a 100-unit trace; filtering the few non-serial rows in Python is its best case)
_BWD = """
WITH RECURSIVE r(n) AS (SELECT i FROM nodes WHERE key = ?1 UNION SELECT e.src FROM edges e JOIN r ON e.dst = r.n)
SELECT n.key FROM r JOIN nodes n ON n.i = r.n WHERE n.key <> ?1
"""


def build(plant: Plant, path: Path) -> None:
    """Write the database (about 10 s per million serials)."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript(
        """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE nodes(i INTEGER PRIMARY KEY, key TEXT NOT NULL, label INTEGER NOT NULL, holder INTEGER);
        CREATE TABLE edges(src INTEGER NOT NULL, dst INTEGER NOT NULL);
        CREATE TABLE usage(eq INTEGER NOT NULL, t_from INTEGER NOT NULL, t_to INTEGER NOT NULL, batch INTEGER NOT NULL);
        """
    )
    import numpy as np

    holder = np.full(plant.n_nodes, -1, dtype=np.int64)
    hold = plant.node_props["Serial"]["holder"]
    holder[plant.block("Serial")] = np.where(hold >= 0, plant.block("Customer")[0] + hold, -1)
    db.executemany(
        "INSERT INTO nodes VALUES (?,?,?,?)",
        zip(range(plant.n_nodes), plant.keys.tolist(), plant.labels.tolist(),
            (None if h < 0 else h for h in holder.tolist())),
    )
    src, dst = plant.trace_edges()
    db.executemany("INSERT INTO edges VALUES (?,?)", zip(src.tolist(), dst.tolist()))
    ps, pd = plant.edges["PROCESSED_ON"]
    db.executemany(
        "INSERT INTO usage VALUES (?,?,?,?)",
        zip(pd.tolist(), plant.processed_from.tolist(), plant.processed_to.tolist(), ps.tolist()),
    )
    db.executescript(
        """
        CREATE UNIQUE INDEX nodes_key ON nodes(key);
        CREATE INDEX edges_fwd ON edges(src, dst);
        CREATE INDEX edges_bwd ON edges(dst, src);
        CREATE INDEX usage_eq ON usage(eq, t_from, t_to, batch);

        """
    )
    # no ANALYZE: with statistics, SQLite 3.40 plans Bloom filters that scan whole tables on
    # every call (50 ms for a 100-unit trace); without them it walks the indexes (its best case)
    db.commit()
    db.close()
    tmp.replace(path)


class SqliteCTE:
    name = "sqlite-cte"

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.db.execute("PRAGMA cache_size=-512000")
        self.db.execute("PRAGMA mmap_size=4000000000")

    def _fwd(self, seed: str, params: tuple[object, ...]) -> Answer:
        serials: list[str] = []
        customers: set[str] = set()
        for key, label, holder in self.db.execute(_FWD.format(seed=seed), params):
            if label != SER:
                continue
            serials.append(key)
            if holder is not None:
                customers.add(holder)
        return {"serials": serials, "customers": list(customers)}

    def lot_impact(self, lot_id: str) -> Answer:
        return self._fwd("SELECT i FROM nodes WHERE key = ?", (lot_id,))

    def supplier_impact(self, supplier_id: str) -> Answer:
        return self.lot_impact(supplier_id)

    def equipment_impact(self, equipment_id: str, t0: int, t1: int) -> Answer:
        seed = (
            "SELECT u.batch FROM usage u JOIN nodes q ON q.i = u.eq "
            "WHERE q.key = ? AND u.t_from <= ? AND u.t_to >= ?"
        )
        return self._fwd(seed, (equipment_id, t1, t0))

    def backward(self, serial_id: str) -> Answer:
        return {"ancestors": [k for (k,) in self.db.execute(_BWD, (serial_id,))]}

    def close(self) -> None:
        self.db.close()
