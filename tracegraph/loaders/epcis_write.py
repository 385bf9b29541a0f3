"""Write mapped EPCIS facts into the graph: audited, chunked, idempotent (MERGE by key).

Why a writer of its own: EPCIS brings nodes and edges the ERP record types do not have
(EpcisEvent, Location, Container, BusinessTransaction; CONCERNS and PACKED_IN; unpacking, which
DELETEs) and leaves out fields those records require (a serial observed without its batch, a
shipment without a known sender). Every chunk is ONE statement that changes the data and
appends one audit entry (action `import`, target the import id, changes = row count and SHA-256
of the chunk), like the ERP import runner.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from tracegraph.engine.audit import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_map import Mapped

CHUNK = 2000

#: node labels in write order (ends of edges first)
NODE_ORDER = ("Product", "Material", "Customer", "Location", "Equipment", "BusinessTransaction", "MaterialLot",
              "Batch", "Serial", "Container", "Shipment", "EpcisEvent")
EDGE_QUERIES = {
    ("OF", "Serial", "Product"), ("OF", "Batch", "Product"), ("OF", "MaterialLot", "Material"),
    ("PRODUCED", "Batch", "Serial"), ("CONSUMED_IN", "MaterialLot", "Batch"), ("CONSUMED_IN", "Batch", "Batch"),
    ("COMPONENT_OF", "Serial", "Serial"), ("SHIPPED_IN", "Serial", "Shipment"), ("SHIPPED_IN", "Batch", "Shipment"),
    ("DELIVERED_TO", "Shipment", "Customer"),
}
CONCERNS_TARGETS = {"Serial", "Batch", "MaterialLot", "Product", "Material", "Container", "Location", "Customer",
                    "Shipment", "Equipment", "BusinessTransaction"}


@dataclass
class WriteResult:
    import_id: str
    nodes: dict[str, int] = field(default_factory=dict)
    edges: dict[str, int] = field(default_factory=dict)
    skipped_edges: dict[str, int] = field(default_factory=dict)
    unpacked: int = 0
    audit_entries: int = 0


def plan(mapped: Mapped) -> tuple[list[tuple[str, list[dict[str, Any]]]], WriteResult]:
    """(query name, rows) in write order, and the counts they will write."""
    res = WriteResult(import_id="")
    steps: list[tuple[str, list[dict[str, Any]]]] = []
    by_label: dict[str, list[dict[str, Any]]] = {}
    for key in mapped.nodes:
        create, props = mapped.split(key)
        by_label.setdefault(key[0], []).append({"id": key[1], "create": create, "props": props})
    for label in NODE_ORDER:
        rows = by_label.pop(label, [])
        if rows:
            steps.append((f"epcis.upsert_{label.lower()}", rows))
            res.nodes[label] = len(rows)
    by_q: dict[str, list[dict[str, Any]]] = {}
    for (etype, fl, fid, tl, tid, role), props in mapped.edges.items():
        if etype == "CONCERNS" and tl in CONCERNS_TARGETS:
            q = f"epcis.concerns_{tl.lower()}"
            row = {"f": fid, "t": tid, "role": role}
        elif etype == "PACKED_IN" and fl in ("Serial", "Container"):
            q = f"epcis.pack_{fl.lower()}"
            row = {"f": fid, "t": tid}
        elif (etype, fl, tl) in EDGE_QUERIES:
            q = f"epcis.edge_{etype.lower()}_{fl.lower()}_{tl.lower()}"
            row = {"f": fid, "t": tid, "props": {k: v for k, v in props.items() if k != "role"}}
        else:
            res.skipped_edges[f"{fl}-{etype}->{tl}"] = res.skipped_edges.get(f"{fl}-{etype}->{tl}", 0) + 1
            continue
        by_q.setdefault(q, []).append(row)
        res.edges[etype] = res.edges.get(etype, 0) + 1
    # unpack before pack, so an unpack + repack in one document ends packed
    unpack = [{"f": c_id, "t": k} for (_lbl, c_id, k) in mapped.unpacked]
    if unpack:
        steps.append(("epcis.unpack", unpack))
        res.unpacked = len(unpack)
    for q in sorted(by_q, key=lambda n: (n.startswith("epcis.pack_"), n)):
        steps.append((q, by_q[q]))
    return steps, res


def write(store: GraphStore, mapped: Mapped, actor: Actor, *, source: str, clock: Clock | None = None,
          import_id: str | None = None, progress: Callable[[int, int], None] | None = None) -> WriteResult:
    """Write everything in `mapped`; returns counts. Safe to repeat (MERGE by key)."""
    clock = clock or SystemClock()
    steps, res = plan(mapped)
    res.import_id = import_id or f"epcis-{uuid.uuid4().hex[:12]}"
    now = iso(clock.now())
    total = sum((len(rows) + CHUNK - 1) // CHUNK for _, rows in steps)
    done = 0
    for qname, rows in steps:
        for i in range(0, len(rows), CHUNK):
            chunk = rows[i:i + CHUNK]
            # a fingerprint of the chunk for the audit entry (sorted-key JSON: fast, stable)
            digest = hashlib.sha256(json.dumps(chunk, sort_keys=True, separators=(",", ":"),
                                               ensure_ascii=False, default=str).encode("utf-8")).hexdigest()

            def prepare(chunk: list[dict[str, Any]] = chunk, qname: str = qname, digest: str = digest) -> tuple[dict[str, Any], AuditSpec]:
                spec = AuditSpec(action="import", target_label="ImportRun", target_key=res.import_id,
                                 changes=[Change("query", None, qname, state=False),
                                          Change("rows", None, len(chunk), state=False),
                                          Change("sha256", None, digest, state=False),
                                          Change("source", None, source, state=False)])
                return {"rows": chunk, "now": now, "source": source, "import_id": res.import_id}, spec

            audited_write(store, qname, prepare, actor, clock=clock)
            res.audit_entries += 1
            done += 1
            if progress:
                progress(done, total)
    return res


__all__ = ["WriteResult", "plan", "write", "CHUNK"]
