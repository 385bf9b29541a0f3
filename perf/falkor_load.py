"""Bulk-load a generated Plant into FalkorDB with big UNWIND statements.

WHY not the audited importer: a benchmark plant is scaffolding, not business data, so it is
loaded without audit entries in the fewest, largest statements (rows as short lists, because
the client sends parameters as Cypher text that the server must parse). The real importer
(tracegraph/engine/imports/runner.py) is benchmarked separately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from perf.plants import LABELS, Plant, _iso

CHUNK = 25_000
SOURCE = "perf-generator"
TS = "2026-01-01T00:00:00.000000+00:00"

Progress = Callable[[str, int, int], None]


def _chunks(rows: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _node_rows(p: Plant, label: str) -> tuple[str, list[list[Any]]]:
    """The CREATE statement and the rows for one label (short lists, positional)."""
    idx = p.block(label)
    keys = p.keys[idx].tolist()
    common = "created_at: $ts, updated_at: $ts, source: $src"
    if label == "Supplier":
        rows = [[k] for k in keys]
        q = f"CREATE (:Supplier {{id: r[0], name: r[0], country: 'DE', status: 'approved', {common}}})"
    elif label == "Material":
        rows = [[k] for k in keys]
        q = f"CREATE (:Material {{id: r[0], name: r[0], uom: 'ea', {common}}})"
    elif label == "MaterialLot":
        props = p.node_props["MaterialLot"]
        sup = p.keys[p.block("Supplier")][props["supplier"]].tolist()
        mat = p.keys[p.block("Material")][props["material"]].tolist()
        rows = [list(t) for t in zip(keys, sup, mat)]
        q = ("CREATE (:MaterialLot {id: r[0], supplier_id: r[1], material_id: r[2], qty_received: 1000.0, "
             f"uom: 'ea', status: 'available', {common}}})")
    elif label == "Batch":
        props = p.node_props["Batch"]
        start = _iso(props["start"])
        kind = np.where(props["sub"], "subassembly", "finished").tolist()
        rows = [list(t) for t in zip(keys, start, kind)]
        q = ("CREATE (:Batch {id: r[0], started_at: r[1], kind: r[2], product_id: 'PRD-1', qty: 10.0, "
             f"uom: 'ea', status: 'released', {common}}})")
    elif label == "Serial":
        props = p.node_props["Serial"]
        bkeys = p.keys[p.block("Batch")][props["batch"]].tolist()
        ckeys_all = p.keys[p.block("Customer")]
        holder = props["holder"]
        cust = np.where(holder >= 0, ckeys_all[np.clip(holder, 0, None)], None).tolist()
        rows = [list(t) for t in zip(keys, bkeys, props["status"].tolist(), cust)]
        q = ("CREATE (:Serial {id: r[0], batch_id: r[1], status: r[2], customer_id: r[3], product_id: 'PRD-1', "
             f"{common}}})")
    elif label == "Equipment":
        rows = [[k] for k in keys]
        q = f"CREATE (:Equipment {{id: r[0], name: r[0], kind: 'press', status: 'active', {common}}})"
    elif label == "Customer":
        kind = np.where(p.node_props["Customer"]["distributor"], "distributor", "hospital").tolist()
        rows = [list(t) for t in zip(keys, kind)]
        q = f"CREATE (:Customer {{id: r[0], name: r[0], kind: r[1], country: 'DE', language: 'en', {common}}})"
    elif label == "Shipment":
        props = p.node_props["Shipment"]
        ckeys_all = p.keys[p.block("Customer")]
        date = _iso(props["date"])
        dest = ckeys_all[props["customer"]].tolist()
        frm = np.where(props["from"] >= 0, ckeys_all[np.clip(props["from"], 0, None)], "SITE").tolist()
        rows = [list(t) for t in zip(keys, date, dest, frm)]
        q = ("CREATE (:Shipment {id: r[0], date: r[1], delivered_at: r[1], customer_id: r[2], from_id: r[3], "
             f"status: 'delivered', {common}}})")
    else:  # pragma: no cover
        raise ValueError(label)
    return "UNWIND $rows AS r " + q, rows


def load_plant(store: Any, p: Plant, progress: Progress | None = None) -> None:
    """Create every node, then every edge (matched by label + indexed id)."""
    say = progress or (lambda *_: None)
    params = {"ts": TS, "src": SOURCE}
    for label in LABELS:
        q, rows = _node_rows(p, label)
        done = 0
        for chunk in _chunks(rows):
            store.run(q, {"rows": chunk, **params})
            done += len(chunk)
            say(f"nodes {label}", done, len(rows))
    for etype, (src_all, dst_all) in p.edges.items():
        # one statement shape per (source label, target label): CONSUMED_IN has two
        pairs = p.labels[src_all].astype(np.int64) * 64 + p.labels[dst_all].astype(np.int64)
        for pair in np.unique(pairs).tolist():
            sel = np.flatnonzero(pairs == pair)
            src, dst = src_all[sel], dst_all[sel]
            sl, dl = LABELS[pair // 64], LABELS[pair % 64]
            skeys = p.keys[src].tolist()
            dkeys = p.keys[dst].tolist()
            if etype == "PROCESSED_ON":
                rows = [list(t) for t in zip(skeys, dkeys, _iso(p.processed_from[sel]), _iso(p.processed_to[sel]))]
                create = "CREATE (a)-[:PROCESSED_ON {`from`: r[2], `to`: r[3], operator: 'op'}]->(b)"
            else:
                rows = [list(t) for t in zip(skeys, dkeys)]
                create = f"CREATE (a)-[:{etype}]->(b)"
            q = f"UNWIND $rows AS r MATCH (a:{sl} {{id: r[0]}}) MATCH (b:{dl} {{id: r[1]}}) {create}"
            done = 0
            for chunk in _chunks(rows):
                store.run(q, {"rows": chunk})
                done += len(chunk)
                say(f"edges {etype}", done, len(rows))


__all__ = ["load_plant"]
