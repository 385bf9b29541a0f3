"""A minimal, deterministic synthetic plant for benchmarks, as numpy arrays.

WHY this exists: every system in the benchmark (FalkorDB, SQLite, networkx, scipy) must answer
the same questions over the same data, and 1M serials must be generated in seconds. So the
plant is built once as integer arrays (one global node index, one label per node, one
(src, dst) array per edge type) and every backend is loaded from those arrays. The shape
follows docs/model.md (labels, edge directions cause -> effect, key properties).

Shape for n serials (all ratios fixed, so sizes are comparable):
    suppliers   n/10_000 (>= 3)      materials  n/5_000 (>= 5)
    lots        n/20 received + 5% of them split into 2 child lots (SPLIT_INTO)
    batches     n/10, 10% sub-assemblies CONSUMED_IN a later finished batch; every
                batch consumes 3 lots (2 for sub-assemblies) and PRODUCED 10 serials
    serials     n; 3% are COMPONENT_OF a serial of a later batch
    equipment   n/5_000 (>= 5); every batch PROCESSED_ON 2 of them {from, to}
    customers   n/50, 20% distributors
    shipments   n/10 from the site + n/40 distributor -> hospital transfers;
                90% of serials shipped, half of those at a distributor transferred on
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

#: node labels, in the order of their blocks in the global index
LABELS: tuple[str, ...] = (
    "Supplier", "Material", "MaterialLot", "Batch", "Serial", "Equipment", "Customer", "Shipment",
)
LABEL_CODE: dict[str, int] = {lbl: i for i, lbl in enumerate(LABELS)}

#: edge types a forward/backward trace follows (cause -> effect): SUPPLIED plus the material-flow
#: edges of tracegraph's FORWARD_EDGES. OF and PROCESSED_ON point at shared master data and are
#: never traversed; shipments are not traversed either, because "which customers" means the
#: unit's CURRENT holder (Serial.customer_id, as tracegraph's impact() reports it), not every
#: customer it ever passed through
TRACE_EDGES: tuple[str, ...] = (
    "SUPPLIED", "SPLIT_INTO", "MERGED_INTO", "CONSUMED_IN", "PRODUCED", "COMPONENT_OF",
)

SIZES: dict[str, int] = {"XS": 2_000, "S": 100_000, "M": 1_000_000, "L": 10_000_000, "XL": 100_000_000}

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 730


def _iso(seconds: np.ndarray) -> list[str]:
    """ISO-8601 UTC strings (model.md form) for offsets in seconds from EPOCH."""
    base = np.datetime64("2024-01-01T00:00:00", "s")
    stamps = np.datetime_as_string(base + seconds.astype("timedelta64[s]"), unit="us")
    return [s + "+00:00" for s in stamps.tolist()]


@dataclass
class Plant:
    """A generated plant: node keys and labels over one index, typed edges, edge properties."""

    n_serials: int
    seed: int
    keys: np.ndarray  # object array of str, one per node
    labels: np.ndarray  # int8 codes into LABELS
    edges: dict[str, tuple[np.ndarray, np.ndarray]]  # type -> (src, dst) int64 global indexes
    processed_from: np.ndarray  # seconds from EPOCH, aligned with edges["PROCESSED_ON"]
    processed_to: np.ndarray
    node_props: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # label -> prop -> array

    @property
    def n_nodes(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_edges(self) -> int:
        return int(sum(s.shape[0] for s, _ in self.edges.values()))

    def block(self, label: str) -> np.ndarray:
        """Global indexes of every node with this label (contiguous by construction)."""
        return np.flatnonzero(self.labels == LABEL_CODE[label])

    def trace_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """All traversable edges as one (src, dst) pair of arrays."""
        srcs = [self.edges[t][0] for t in TRACE_EDGES if t in self.edges]
        dsts = [self.edges[t][1] for t in TRACE_EDGES if t in self.edges]
        return np.concatenate(srcs), np.concatenate(dsts)

    # -- cache -------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "keys": self.keys.astype("U"),
            "labels": self.labels,
            "processed_from": self.processed_from,
            "processed_to": self.processed_to,
            "meta": np.array([self.n_serials, self.seed], dtype=np.int64),
        }
        for t, (s, d) in self.edges.items():
            arrays[f"e_{t}_src"], arrays[f"e_{t}_dst"] = s, d
        for lbl, props in self.node_props.items():
            for name, arr in props.items():
                arrays[f"p_{lbl}_{name}"] = arr
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Plant:
        z = np.load(path, allow_pickle=False)
        edges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        props: dict[str, dict[str, np.ndarray]] = {}
        for name in z.files:
            if name.startswith("e_") and name.endswith("_src"):
                t = name[2:-4]
                edges[t] = (z[name], z[f"e_{t}_dst"])
            elif name.startswith("p_"):
                _, lbl, prop = name.split("_", 2)
                props.setdefault(lbl, {})[prop] = z[name]
        meta = z["meta"]
        return cls(
            n_serials=int(meta[0]), seed=int(meta[1]), keys=z["keys"].astype(object), labels=z["labels"],
            edges=edges, processed_from=z["processed_from"], processed_to=z["processed_to"], node_props=props,
        )


def generate(n_serials: int, seed: int = 7) -> Plant:
    """Build the plant for `n_serials` units deterministically from `seed` (a few s per million)."""
    rng = np.random.default_rng(seed)
    n = int(n_serials)
    n_sup = max(3, n // 10_000)
    n_mat = max(5, n // 5_000)
    n_lot0 = max(10, n // 20)
    n_split = max(1, n_lot0 // 20)
    n_lot = n_lot0 + 2 * n_split
    n_bat = max(2, n // 10)
    n_eq = max(5, n // 5_000)
    n_cust = max(10, n // 50)
    n_ship1 = max(2, n // 10)
    n_dist = max(1, n_cust // 5)
    per_dist = max(1, (n // 40) // n_dist)
    n_ship2 = n_dist * per_dist

    counts = [n_sup, n_mat, n_lot, n_bat, n, n_eq, n_cust, n_ship1 + n_ship2]
    starts = np.cumsum([0] + counts)
    off = {lbl: int(starts[i]) for i, lbl in enumerate(LABELS)}
    labels = np.repeat(np.arange(len(LABELS), dtype=np.int8), counts)

    def keys(prefix: str, k: int, width: int) -> list[str]:
        return [f"{prefix}{i:0{width}d}" for i in range(k)]

    key_list: list[str] = []
    key_list += keys("SUP-", n_sup, 5)
    key_list += keys("MAT-", n_mat, 6)
    key_list += keys("LOT-", n_lot, 8)
    key_list += keys("B-", n_bat, 8)
    key_list += keys("SN-", n, 9)
    key_list += keys("EQ-", n_eq, 5)
    key_list += keys("CUST-", n_cust, 6)
    key_list += keys("SHP-", n_ship1 + n_ship2, 8)
    key_arr = np.array(key_list, dtype=object)

    edges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    i64 = np.int64

    # lots: the first n_lot0 are received from a supplier; split parents produce 2 children each
    lot_sup = rng.integers(0, n_sup, n_lot0)
    lot_mat = rng.integers(0, n_mat, n_lot)
    edges["SUPPLIED"] = (off["Supplier"] + lot_sup.astype(i64), off["MaterialLot"] + np.arange(n_lot0, dtype=i64))
    edges["OF"] = (off["MaterialLot"] + np.arange(n_lot, dtype=i64), off["Material"] + lot_mat.astype(i64))
    split_parent = rng.choice(n_lot0, n_split, replace=False)
    edges["SPLIT_INTO"] = (
        off["MaterialLot"] + np.repeat(split_parent, 2).astype(i64),
        off["MaterialLot"] + n_lot0 + np.arange(2 * n_split, dtype=i64),
    )
    lot_supplier_full = np.concatenate([lot_sup, np.repeat(lot_sup[split_parent], 2)])

    # batches: chronological; 10% sub-assemblies consumed in a later finished batch
    is_sub = rng.random(n_bat) < 0.10
    is_sub[-1] = False
    n_inputs = np.where(is_sub, 2, 3)
    cons_batch = np.repeat(np.arange(n_bat, dtype=i64), n_inputs)
    cons_lot = rng.integers(0, n_lot, cons_batch.shape[0]).astype(i64)
    sub_idx = np.flatnonzero(is_sub).astype(i64)
    gap = rng.integers(1, 50, sub_idx.shape[0])
    sub_target = np.minimum(sub_idx + gap, n_bat - 1)
    # a sub-assembly consumed in itself (last index) would be a cycle: drop those
    ok = sub_target != sub_idx
    edges["CONSUMED_IN"] = (
        np.concatenate([off["MaterialLot"] + cons_lot, off["Batch"] + sub_idx[ok]]),
        np.concatenate([off["Batch"] + cons_batch, off["Batch"] + sub_target[ok]]),
    )
    batch_start = (np.arange(n_bat, dtype=i64) * (SPAN_DAYS * 86_400) // n_bat).astype(i64)

    # serials: serial i belongs to batch i * n_bat // n
    ser_batch = (np.arange(n, dtype=i64) * n_bat // n).astype(i64)
    edges["PRODUCED"] = (off["Batch"] + ser_batch, off["Serial"] + np.arange(n, dtype=i64))
    n_comp = n * 3 // 100
    comp = np.sort(rng.choice(n, n_comp, replace=False)).astype(i64)
    per_batch = max(1, n // n_bat)
    later = comp + per_batch + rng.integers(0, 20 * per_batch, n_comp)
    keep = later < n
    edges["COMPONENT_OF"] = (off["Serial"] + comp[keep], off["Serial"] + later[keep])

    # equipment: 2 per batch, an 8-hour window from the batch start
    eq_a = rng.integers(0, n_eq, n_bat)
    eq_b = (eq_a + 1 + rng.integers(0, n_eq - 1, n_bat)) % n_eq
    edges["PROCESSED_ON"] = (
        off["Batch"] + np.concatenate([np.arange(n_bat), np.arange(n_bat)]).astype(i64),
        off["Equipment"] + np.concatenate([eq_a, eq_b]).astype(i64),
    )
    p_from = np.concatenate([batch_start, batch_start + 4 * 3600])
    p_to = p_from + 4 * 3600

    # customers: the first n_dist are distributors; shipments from the site, then transfers
    ship1_cust = rng.integers(0, n_cust, n_ship1)
    ship2_from = np.repeat(np.arange(n_dist), per_dist)
    ship2_cust = rng.integers(n_dist, n_cust, n_ship2) if n_cust > n_dist else rng.integers(0, n_cust, n_ship2)
    shipped = rng.random(n) < 0.90
    ser_ship1 = rng.integers(0, n_ship1, n)
    dest1 = ship1_cust[ser_ship1]
    transfer = shipped & (dest1 < n_dist) & (rng.random(n) < 0.5)
    ser_ship2 = n_ship1 + dest1 * per_dist + rng.integers(0, per_dist, n)
    s_idx = np.arange(n, dtype=i64)
    edges["SHIPPED_IN"] = (
        np.concatenate([off["Serial"] + s_idx[shipped], off["Serial"] + s_idx[transfer]]),
        np.concatenate([off["Shipment"] + ser_ship1[shipped], off["Shipment"] + ser_ship2[transfer]]).astype(i64),
    )
    ship_cust = np.concatenate([ship1_cust, ship2_cust])
    edges["DELIVERED_TO"] = (
        off["Shipment"] + np.arange(n_ship1 + n_ship2, dtype=i64),
        off["Customer"] + ship_cust.astype(i64),
    )

    status = np.where(transfer, "at_end_user", np.where(shipped, np.where(dest1 < n_dist, "at_distributor", "at_end_user"), "in_stock"))
    holder = np.where(transfer, ship2_cust[np.clip(ser_ship2 - n_ship1, 0, n_ship2 - 1)], np.where(shipped, dest1, -1))
    ship_date = np.concatenate([
        batch_start[np.minimum(np.arange(n_ship1) * n_bat // n_ship1, n_bat - 1)] + 3 * 86_400,
        batch_start[np.minimum(np.arange(n_ship2) * n_bat // max(1, n_ship2), n_bat - 1)] + 20 * 86_400,
    ])
    props: dict[str, dict[str, np.ndarray]] = {
        "Serial": {"batch": ser_batch, "status": status.astype("U16"), "holder": holder.astype(i64)},
        "Batch": {"start": batch_start, "sub": is_sub},
        "MaterialLot": {"supplier": lot_supplier_full.astype(i64), "material": lot_mat.astype(i64)},
        "Customer": {"distributor": np.arange(n_cust) < n_dist},
        "Shipment": {"date": ship_date.astype(i64), "customer": ship_cust.astype(i64),
                     "from": np.concatenate([np.full(n_ship1, -1), ship2_from]).astype(i64)},
    }
    return Plant(
        n_serials=n, seed=seed, keys=key_arr, labels=labels, edges=edges,
        processed_from=p_from.astype(i64), processed_to=p_to.astype(i64), node_props=props,
    )


def iso_at(seconds: int) -> str:
    """The ISO string for one offset from EPOCH (window parameters)."""
    return (EPOCH + timedelta(seconds=int(seconds))).isoformat(timespec="microseconds")


__all__ = ["Plant", "generate", "from_import_batch", "LABELS", "LABEL_CODE", "TRACE_EDGES", "SIZES", "iso_at", "_iso"]


# ---------------------------------------------------------------------------------------
# tracegraph's own generator (tracegraph.loaders.generator) as a Plant
# ---------------------------------------------------------------------------------------

HELD = frozenset({"in_transit", "at_distributor", "at_end_user"})


def _secs(ts: str | None) -> int:
    if not ts:
        return 0
    return int((datetime.fromisoformat(str(ts).replace("Z", "+00:00")) - EPOCH).total_seconds())


def from_import_batch(batch: object, n_serials: int, seed: int) -> Plant:
    """The arrays of a plant made by `tracegraph.loaders.generator.generate_plant` (the records
    the importer writes), so every baseline answers over exactly the graph the importer built.

    Lots may have no supplier (made by split/merge) and several parents (merge); batches may
    form legal rework cycles; some batches ship without serials. Customers of a unit are its
    current holder when its status is in_transit / at_distributor / at_end_user (as impact())."""
    b = batch
    blocks: list[tuple[str, list[str]]] = [
        ("Supplier", [r.id for r in b.suppliers]),  # type: ignore[attr-defined]
        ("Material", [r.id for r in b.materials]),  # type: ignore[attr-defined]
        ("MaterialLot", [r.id for r in b.material_lots]),  # type: ignore[attr-defined]
        ("Batch", [r.id for r in b.batches]),  # type: ignore[attr-defined]
        ("Serial", [r.id for r in b.serials]),  # type: ignore[attr-defined]
        ("Equipment", [r.id for r in b.equipment]),  # type: ignore[attr-defined]
        ("Customer", [r.id for r in b.customers]),  # type: ignore[attr-defined]
        ("Shipment", [r.id for r in b.shipments]),  # type: ignore[attr-defined]
    ]
    keys: list[str] = []
    labels: list[int] = []
    index: dict[tuple[str, str], int] = {}
    off: dict[str, int] = {}
    for label, ids in blocks:
        off[label] = len(keys)
        for k in ids:
            index[(label, k)] = len(keys)
            keys.append(k)
            labels.append(LABEL_CODE[label])

    def ix(label: str, key: str | None) -> int:
        return index.get((label, key), -1) if key else -1

    edges: dict[str, tuple[list[int], list[int]]] = {t: ([], []) for t in (
        "SUPPLIED", "OF", "SPLIT_INTO", "MERGED_INTO", "CONSUMED_IN", "PRODUCED", "COMPONENT_OF",
        "PROCESSED_ON", "SHIPPED_IN", "DELIVERED_TO")}

    def add(t: str, a: int, z: int) -> None:
        if a >= 0 and z >= 0:
            edges[t][0].append(a)
            edges[t][1].append(z)

    lot_sup, lot_mat = [], []
    for r in b.material_lots:  # type: ignore[attr-defined]
        me = ix("MaterialLot", r.id)
        s = ix("Supplier", r.supplier_id)
        add("SUPPLIED", s, me)
        add("OF", me, ix("Material", r.material_id))
        lot_sup.append(s - off["Supplier"] if s >= 0 else -1)
        lot_mat.append(max(0, ix("Material", r.material_id) - off["Material"]))
    for r in b.lot_links:  # type: ignore[attr-defined]
        add("SPLIT_INTO" if r.kind == "split" else "MERGED_INTO", ix("MaterialLot", r.from_lot_id), ix("MaterialLot", r.to_lot_id))
    for r in b.consumptions:  # type: ignore[attr-defined]
        src = ix("MaterialLot" if r.input_kind == "lot" else "Batch", r.input_id)
        add("CONSUMED_IN", src, ix("Batch", r.batch_id))
    ser_batch, ser_status, ser_holder = [], [], []
    for r in b.serials:  # type: ignore[attr-defined]
        bi = ix("Batch", r.batch_id)
        add("PRODUCED", bi, ix("Serial", r.id))
        ser_batch.append(bi - off["Batch"])
        ser_status.append(r.status)
        c = ix("Customer", r.customer_id) if r.status in HELD else -1
        ser_holder.append(c - off["Customer"] if c >= 0 else -1)
    for r in b.components:  # type: ignore[attr-defined]
        add("COMPONENT_OF", ix("Serial", r.component_id), ix("Serial", r.assembly_id))
    p_from, p_to = [], []
    for r in b.equipment_usage:  # type: ignore[attr-defined]
        a, z = ix("Batch", r.batch_id), ix("Equipment", r.equipment_id)
        if a >= 0 and z >= 0:
            add("PROCESSED_ON", a, z)
            p_from.append(_secs(r.from_))
            p_to.append(_secs(r.to))
    for r in b.shipment_lines:  # type: ignore[attr-defined]
        add("SHIPPED_IN", ix("Serial" if r.item_kind == "serial" else "Batch", r.item_id), ix("Shipment", r.shipment_id))
    ship_date, ship_cust, ship_from = [], [], []
    for r in b.shipments:  # type: ignore[attr-defined]
        c = ix("Customer", r.customer_id)
        add("DELIVERED_TO", ix("Shipment", r.id), c)
        ship_date.append(_secs(r.date))
        ship_cust.append(max(0, c - off["Customer"]))
        f = ix("Customer", r.from_id)
        ship_from.append(f - off["Customer"] if f >= 0 else -1)
    i64 = np.int64
    props: dict[str, dict[str, np.ndarray]] = {
        "Serial": {"batch": np.array(ser_batch, dtype=i64), "status": np.array(ser_status, dtype="U16"),
                   "holder": np.array(ser_holder, dtype=i64)},
        "Batch": {"start": np.array([_secs(r.started_at) for r in b.batches], dtype=i64),  # type: ignore[attr-defined]
                  "sub": np.array([r.kind != "finished" for r in b.batches], dtype=bool)},  # type: ignore[attr-defined]
        "MaterialLot": {"supplier": np.array(lot_sup, dtype=i64), "material": np.array(lot_mat, dtype=i64)},
        "Customer": {"distributor": np.array([r.kind == "distributor" for r in b.customers], dtype=bool)},  # type: ignore[attr-defined]
        "Shipment": {"date": np.array(ship_date, dtype=i64), "customer": np.array(ship_cust, dtype=i64),
                     "from": np.array(ship_from, dtype=i64)},
    }
    return Plant(
        n_serials=n_serials, seed=seed, keys=np.array(keys, dtype=object), labels=np.array(labels, dtype=np.int8),
        edges={t: (np.array(s, dtype=i64), np.array(d, dtype=i64)) for t, (s, d) in edges.items()},
        processed_from=np.array(p_from, dtype=i64), processed_to=np.array(p_to, dtype=i64), node_props=props,
    )
