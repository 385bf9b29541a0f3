"""SQLite as an ERP stores it: normalized tables (lots, production orders, stock moves,
serials, deliveries) joined by business keys, and the recursive SQL an ERP report runs.

    supplier(id)                   lot(id, supplier_id, material_id)   lot_link(from_lot_id, to_lot_id, kind)
    production_order(id, started_at, kind)
    stock_move(id, lot_id | src_order_id, dest_order_id, qty)     -- consumption lines
    serial(id, order_id, status, customer_id)    serial_component(component_id, assembly_id)
    delivery(id, customer_id, from_customer_id, date)    delivery_line(delivery_id, serial_id)
    workcenter_usage(order_id, equipment_id, t_from, t_to)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from perf.baselines import Answer
from perf.plants import Plant

_TAIL = """
units(id) AS (
    SELECT s.id FROM orders o CROSS JOIN serial s ON s.order_id = o.id
    UNION SELECT c.assembly_id FROM serial_component c JOIN units u ON c.component_id = u.id
)
SELECT 's', id FROM units
UNION ALL
SELECT DISTINCT 'c', s.customer_id FROM units u CROSS JOIN serial s ON s.id = u.id WHERE s.customer_id IS NOT NULL
"""
_ORDERS_FROM_LOTS = """
lots(id) AS ({lot_seed} UNION SELECT k.to_lot_id FROM lots CROSS JOIN lot_link k ON k.from_lot_id = lots.id),
orders(id) AS (
    SELECT m.dest_order_id FROM stock_move m JOIN lots ON m.lot_id = lots.id
    UNION SELECT m.dest_order_id FROM stock_move m JOIN orders o ON m.src_order_id = o.id
),
"""
LOT_Q = "WITH RECURSIVE" + _ORDERS_FROM_LOTS.format(lot_seed="SELECT ?") + _TAIL
SUPPLIER_Q = "WITH RECURSIVE" + _ORDERS_FROM_LOTS.format(lot_seed="SELECT id FROM lot WHERE supplier_id = ?") + _TAIL
EQUIPMENT_Q = """WITH RECURSIVE
orders(id) AS (
    SELECT order_id FROM workcenter_usage WHERE equipment_id = ? AND t_from <= ? AND t_to >= ?
    UNION SELECT m.dest_order_id FROM stock_move m JOIN orders o ON m.src_order_id = o.id
),
""" + _TAIL
BACKWARD_Q = """WITH RECURSIVE
units(id) AS (
    SELECT ?1 UNION SELECT c.component_id FROM serial_component c JOIN units u ON c.assembly_id = u.id
),
orders(id) AS (
    SELECT s.order_id FROM units u CROSS JOIN serial s ON s.id = u.id
    UNION SELECT m.src_order_id FROM stock_move m JOIN orders o ON m.dest_order_id = o.id
    WHERE m.src_order_id IS NOT NULL
),
lots(id) AS (
    SELECT m.lot_id FROM stock_move m JOIN orders o ON m.dest_order_id = o.id WHERE m.lot_id IS NOT NULL
    UNION SELECT k.from_lot_id FROM lots CROSS JOIN lot_link k ON k.to_lot_id = lots.id
)
SELECT id FROM units WHERE id <> ?1
UNION ALL SELECT id FROM orders
UNION ALL SELECT id FROM lots
UNION ALL SELECT DISTINCT l.supplier_id FROM lots CROSS JOIN lot l ON l.id = lots.id WHERE l.supplier_id IS NOT NULL
"""


def build(plant: Plant, path: Path) -> None:
    """Write the ERP-shaped database from the plant arrays."""
    k = plant.keys
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript(
        """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE supplier(id TEXT PRIMARY KEY, name TEXT);
        CREATE TABLE lot(id TEXT PRIMARY KEY, supplier_id TEXT, material_id TEXT);
        CREATE TABLE lot_link(from_lot_id TEXT NOT NULL, to_lot_id TEXT NOT NULL, kind TEXT);
        CREATE TABLE production_order(id TEXT PRIMARY KEY, started_at INTEGER, kind TEXT);
        CREATE TABLE stock_move(id INTEGER PRIMARY KEY, lot_id TEXT, src_order_id TEXT, dest_order_id TEXT NOT NULL, qty REAL);
        CREATE TABLE serial(id TEXT PRIMARY KEY, order_id TEXT NOT NULL, status TEXT, customer_id TEXT);
        CREATE TABLE serial_component(component_id TEXT NOT NULL, assembly_id TEXT NOT NULL);
        CREATE TABLE delivery(id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, from_customer_id TEXT, date INTEGER);
        CREATE TABLE delivery_line(delivery_id TEXT NOT NULL, serial_id TEXT NOT NULL);
        CREATE TABLE workcenter_usage(order_id TEXT NOT NULL, equipment_id TEXT NOT NULL, t_from INTEGER, t_to INTEGER);
        """
    )
    blk = {lbl: plant.block(lbl) for lbl in ("Supplier", "MaterialLot", "Batch", "Serial", "Customer", "Shipment", "Material")}
    db.executemany("INSERT INTO supplier VALUES (?, ?)", ((s, s) for s in k[blk["Supplier"]].tolist()))
    lp = plant.node_props["MaterialLot"]
    lot_idx = blk["MaterialLot"].tolist()
    sup_all = k[blk["Supplier"]]
    sup_keys = [sup_all[x] if x >= 0 else None for x in lp["supplier"].tolist()]
    mat_keys = k[blk["Material"]][lp["material"]].tolist()
    db.executemany(
        "INSERT INTO lot VALUES (?,?,?)", ((k[i], sup_keys[j], mat_keys[j]) for j, i in enumerate(lot_idx))
    )
    for kind in ("SPLIT_INTO", "MERGED_INTO"):
        if kind in plant.edges:
            a, b = plant.edges[kind]
            db.executemany("INSERT INTO lot_link VALUES (?,?,?)", ((k[x], k[y], kind) for x, y in zip(a.tolist(), b.tolist())))
    bp = plant.node_props["Batch"]
    db.executemany(
        "INSERT INTO production_order VALUES (?,?,?)",
        zip(k[blk["Batch"]].tolist(), bp["start"].tolist(), np.where(bp["sub"], "subassembly", "finished").tolist()),
    )
    cs, cd = plant.edges["CONSUMED_IN"]
    from_lot = plant.labels[cs] == plant.labels[blk["MaterialLot"][0]]
    db.executemany(
        "INSERT INTO stock_move(lot_id, src_order_id, dest_order_id, qty) VALUES (?,?,?,1.0)",
        ((k[s] if fl else None, None if fl else k[s], k[d]) for s, d, fl in zip(cs.tolist(), cd.tolist(), from_lot.tolist())),
    )
    sp = plant.node_props["Serial"]
    cust_keys = k[blk["Customer"]]
    holder = np.where(sp["holder"] >= 0, cust_keys[np.clip(sp["holder"], 0, None)], None).tolist()
    db.executemany(
        "INSERT INTO serial VALUES (?,?,?,?)",
        zip(k[blk["Serial"]].tolist(), k[blk["Batch"]][sp["batch"]].tolist(), sp["status"].tolist(), holder),
    )
    a, b = plant.edges["COMPONENT_OF"]
    db.executemany("INSERT INTO serial_component VALUES (?,?)", zip(k[a].tolist(), k[b].tolist()))
    shp = plant.node_props["Shipment"]
    frm = np.where(shp["from"] >= 0, cust_keys[np.clip(shp["from"], 0, None)], None).tolist()
    db.executemany(
        "INSERT INTO delivery VALUES (?,?,?,?)",
        zip(k[blk["Shipment"]].tolist(), cust_keys[shp["customer"]].tolist(), frm, shp["date"].tolist()),
    )
    s, d = plant.edges["SHIPPED_IN"]
    db.executemany("INSERT INTO delivery_line VALUES (?,?)", zip(k[d].tolist(), k[s].tolist()))
    ps, pd = plant.edges["PROCESSED_ON"]
    db.executemany(
        "INSERT INTO workcenter_usage VALUES (?,?,?,?)",
        zip(k[ps].tolist(), k[pd].tolist(), plant.processed_from.tolist(), plant.processed_to.tolist()),
    )
    db.executescript(
        """
        CREATE INDEX lot_supplier ON lot(supplier_id);
        CREATE INDEX link_from ON lot_link(from_lot_id);
        CREATE INDEX link_to ON lot_link(to_lot_id);
        CREATE INDEX move_lot ON stock_move(lot_id);
        CREATE INDEX move_src ON stock_move(src_order_id);
        CREATE INDEX move_dest ON stock_move(dest_order_id);
        CREATE INDEX serial_order ON serial(order_id);
        CREATE INDEX comp_component ON serial_component(component_id);
        CREATE INDEX comp_assembly ON serial_component(assembly_id);
        CREATE INDEX line_serial ON delivery_line(serial_id);
        CREATE INDEX line_delivery ON delivery_line(delivery_id);
        CREATE INDEX usage_eq ON workcenter_usage(equipment_id, t_from);

        """
    )
    # no ANALYZE: with statistics, SQLite 3.40 plans Bloom filters that scan whole tables on
    # every call (50 ms for a 100-unit trace); without them it walks the indexes (its best case)
    db.commit()
    db.close()
    tmp.replace(path)


# CROSS JOIN fixes SQLite's join order (its planner otherwise scans every serial, not knowing
# the recursive CTE is small): the ERP's best case, as a tuned report query would be.


class SqliteERP:
    name = "sqlite-erp"

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.db.execute("PRAGMA cache_size=-512000")
        self.db.execute("PRAGMA mmap_size=4000000000")

    def _impact(self, q: str, params: tuple[object, ...]) -> Answer:
        serials: list[str] = []
        customers: list[str] = []
        for kind, key in self.db.execute(q, params):
            (serials if kind == "s" else customers).append(key)
        return {"serials": serials, "customers": customers}

    def lot_impact(self, lot_id: str) -> Answer:
        return self._impact(LOT_Q, (lot_id,))

    def supplier_impact(self, supplier_id: str) -> Answer:
        return self._impact(SUPPLIER_Q, (supplier_id,))

    def equipment_impact(self, equipment_id: str, t0: int, t1: int) -> Answer:
        return self._impact(EQUIPMENT_Q, (equipment_id, t1, t0))

    def backward(self, serial_id: str) -> Answer:
        return {"ancestors": [k for (k,) in self.db.execute(BACKWARD_Q, (serial_id,))]}

    def close(self) -> None:
        self.db.close()
