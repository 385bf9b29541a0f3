"""networkx in memory: `descendants` / `ancestors` (breadth-first) over a DiGraph of integers."""

from __future__ import annotations

import networkx as nx
import numpy as np

from perf.baselines import Answer
from perf.plants import LABEL_CODE, Plant


class NetworkxBFS:
    name = "networkx"

    def __init__(self, plant: Plant) -> None:
        g = nx.DiGraph()
        g.add_nodes_from(range(plant.n_nodes))
        src, dst = plant.trace_edges()
        g.add_edges_from(zip(src.tolist(), dst.tolist()))
        self.g = g
        self.keys = plant.keys
        self.labels = plant.labels
        self.index = {k: i for i, k in enumerate(plant.keys.tolist())}
        po_src, po_dst = plant.edges["PROCESSED_ON"]
        # equipment -> [(from, to, batch)], the way an in-memory app would keep it
        self.usage: dict[int, list[tuple[int, int, int]]] = {}
        for b, e, f, t in zip(po_src.tolist(), po_dst.tolist(), plant.processed_from.tolist(), plant.processed_to.tolist()):
            self.usage.setdefault(e, []).append((f, t, b))
        self.SER, self.CUS = LABEL_CODE["Serial"], LABEL_CODE["Customer"]
        # the current holder (customer node index, -1 for none) of every node that is a serial
        self.holder = np.full(plant.n_nodes, -1, dtype=np.int64)
        hold = plant.node_props["Serial"]["holder"]
        self.holder[plant.block("Serial")] = np.where(hold >= 0, plant.block("Customer")[0] + hold, -1)

    def _impact(self, reached: set[int]) -> Answer:
        arr = np.fromiter(reached, dtype=np.int64, count=len(reached))
        ser = arr[self.labels[arr] == self.SER]
        h = self.holder[ser]
        return {"serials": self.keys[ser].tolist(), "customers": self.keys[np.unique(h[h >= 0])].tolist()}

    def lot_impact(self, lot_id: str) -> Answer:
        return self._impact(nx.descendants(self.g, self.index[lot_id]))

    def supplier_impact(self, supplier_id: str) -> Answer:
        return self.lot_impact(supplier_id)

    def equipment_impact(self, equipment_id: str, t0: int, t1: int) -> Answer:
        sources = [b for f, t, b in self.usage.get(self.index[equipment_id], []) if f <= t1 and t >= t0]
        if not sources:
            return {"serials": [], "customers": []}
        reached: set[int] = set()
        for layer in nx.bfs_layers(self.g, sources):
            reached.update(layer)
        return self._impact(reached)

    def backward(self, serial_id: str) -> Answer:
        anc = nx.ancestors(self.g, self.index[serial_id])
        arr = np.fromiter(anc, dtype=np.int64, count=len(anc))
        return {"ancestors": self.keys[arr].tolist()}

    def close(self) -> None:
        self.g = nx.DiGraph()
