"""scipy CSR breadth-first search: the physical-limit proxy (arrays only, no database).

Single-source traces use `scipy.sparse.csgraph.breadth_first_order` (C code over CSR);
multi-source traces (equipment window) use a numpy frontier expansion over the same CSR.
Both allocate per call over all nodes, which is why even a tiny trace costs a few ms here.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from perf.baselines import Answer
from perf.plants import LABEL_CODE, Plant


class ScipyCSR:
    name = "scipy-csr"

    def __init__(self, plant: Plant) -> None:
        n = plant.n_nodes
        src, dst = plant.trace_edges()
        data = np.ones(src.shape[0], dtype=np.int8)
        self.fwd = csr_matrix((data, (src, dst)), shape=(n, n))
        self.bwd = csr_matrix((data, (dst, src)), shape=(n, n))
        self.keys = plant.keys
        self.labels = plant.labels
        self.index = {k: i for i, k in enumerate(plant.keys.tolist())}
        po_src, po_dst = plant.edges["PROCESSED_ON"]
        order = np.lexsort((plant.processed_from, po_dst))
        self.po_eq, self.po_batch = po_dst[order], po_src[order]
        self.po_from, self.po_to = plant.processed_from[order], plant.processed_to[order]
        self.SER, self.CUS = LABEL_CODE["Serial"], LABEL_CODE["Customer"]
        # the current holder (customer node index, -1 for none) of every node that is a serial
        self.holder = np.full(plant.n_nodes, -1, dtype=np.int64)
        hold = plant.node_props["Serial"]["holder"]
        self.holder[plant.block("Serial")] = np.where(hold >= 0, plant.block("Customer")[0] + hold, -1)

    def _impact(self, reached: np.ndarray) -> Answer:
        ser = reached[self.labels[reached] == self.SER]
        h = self.holder[ser]
        return {"serials": self.keys[ser].tolist(), "customers": self.keys[np.unique(h[h >= 0])].tolist()}

    def _multi(self, sources: np.ndarray) -> np.ndarray:
        seen = np.zeros(self.fwd.shape[0], dtype=bool)
        frontier = np.unique(sources)
        seen[frontier] = True
        out = [frontier]
        indptr, indices = self.fwd.indptr, self.fwd.indices
        while frontier.size:
            starts, ends = indptr[frontier], indptr[frontier + 1]
            lens = ends - starts
            if not lens.sum():
                break
            offs = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
            nb = indices[offs]
            nb = np.unique(nb[~seen[nb]])
            seen[nb] = True
            out.append(nb)
            frontier = nb
        return np.concatenate(out)

    def lot_impact(self, lot_id: str) -> Answer:
        return self._impact(breadth_first_order(self.fwd, self.index[lot_id], directed=True, return_predecessors=False))

    def supplier_impact(self, supplier_id: str) -> Answer:
        return self.lot_impact(supplier_id)

    def equipment_impact(self, equipment_id: str, t0: int, t1: int) -> Answer:
        eq = self.index[equipment_id]
        lo, hi = np.searchsorted(self.po_eq, [eq, eq + 1])
        sel = (self.po_from[lo:hi] <= t1) & (self.po_to[lo:hi] >= t0)
        batches = self.po_batch[lo:hi][sel]
        if not batches.size:
            return {"serials": [], "customers": []}
        return self._impact(self._multi(batches))

    def backward(self, serial_id: str) -> Answer:
        i = self.index[serial_id]
        reached = breadth_first_order(self.bwd, i, directed=True, return_predecessors=False)
        return {"ancestors": self.keys[reached[reached != i]].tolist()}

    def close(self) -> None:
        pass
