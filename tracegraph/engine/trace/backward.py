"""Backward trace: from a unit, batch or lot to everything it came from (upstream batches including
sub-assemblies and rework, material lots through split/merge, suppliers and receipts, incoming
inspections, equipment with usage window and calibration state, documents in effect, complaints and
deviations on the way), plus the sibling units that share the suspect inputs.

Why a handful of statements: the upstream subgraph with suppliers, inspections and quality records
comes back in one deduplicated traversal; equipment/calibration, documents and siblings are one
statement each over the id lists. No per-node round trips.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from tracegraph.engine.errors import NotFound, ValidationFailed
from tracegraph.engine.stores.base import GraphStore
from tracegraph.engine.trace.fast import read_fast_many
from tracegraph.engine.trace.models import (
    BackwardResult,
    DocumentUse,
    EquipmentUse,
    InspectionInfo,
    QualityRecord,
    SupplyInfo,
    UpstreamBatch,
    UpstreamLot,
)
from tracegraph.engine.trace.scan import resolve_identifier

LABELS = ("Serial", "Batch", "MaterialLot")


def _from_scan(value: Any) -> tuple[str, str] | None:
    """Read (label, key) from whatever the scan resolver returns (model, dict or tuple)."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return str(value[0]), str(value[1])
    get = value.get if isinstance(value, dict) else (lambda k, d=None: getattr(value, k, d))
    label = get("label") or get("kind")
    key = get("key") or get("id")
    if label and key and str(label) in LABELS:
        return str(label), str(key)
    if key:
        return None if label else ("?", str(key))
    return None


def resolve_key(store: GraphStore, text: str) -> tuple[str, str]:
    """(label, id) of the serial, batch or lot a key or scanned identifier names.

    Plain business keys first (one indexed statement); then GS1 barcodes / EPC URIs / Digital
    Links (`scan.resolve_identifier`); then a serial's stored UDI string."""
    key = (text or "").strip()
    if not key:
        raise ValidationFailed("empty key", hint="give a serial, batch or lot key")
    rows = store.read("trace.resolve_key", key=key)
    if rows:
        row = rows[0]
        for label, col in (("Serial", "serial"), ("Batch", "batch"), ("MaterialLot", "lot")):
            if row.get(col):
                return label, row[col]
    try:
        found = _from_scan(resolve_identifier(store, key))
    except NotFound:
        found = None
    except ValidationFailed:
        found = None
    if found is not None:
        label, id_ = found
        if label != "?":
            return label, id_
        again = store.read("trace.resolve_key", key=id_)
        if again:
            for lbl, col in (("Serial", "serial"), ("Batch", "batch"), ("MaterialLot", "lot")):
                if again[0].get(col):
                    return lbl, again[0][col]
    rows = store.read("trace.resolve_udi", udi=key)
    if len(rows) == 1:
        return "Serial", rows[0]["serial"]
    raise NotFound(
        f"no serial, batch or material lot with key {key!r}",
        hint="use the business key as imported (serial/UDI, batch id, lot code) or a scanned GS1 string",
    )


def _calibration_state(used_from: str | None, used_to: str | None, cal: list[Any] | None) -> dict[str, Any]:
    if not cal or cal[0] is None:
        return {"calibration_state": "unknown"}
    cid, date, due, result = cal
    end = used_to or used_from
    ok = (result in (None, "pass")) and (due is None or (end is not None and str(due) >= str(end)))
    return {
        "calibration": cid, "calibrated_at": date, "calibration_due_at": due, "calibration_result": result,
        "calibration_state": "in_calibration" if ok else "out_of_calibration",
    }


def backward_trace(
    store: GraphStore, key: str, *, sibling_limit: int = 100, include_siblings: bool = True
) -> BackwardResult:
    """Everything upstream of `key` (a serial, batch or lot key, or a scanned identifier)."""
    t0 = time.perf_counter()
    label, id_ = resolve_key(store, key)
    query = {"Serial": "trace.backward_serial", "Batch": "trace.backward_batch",
             "MaterialLot": "trace.backward_lot"}[label]
    rows = store.read(query, id=id_)
    nodes = {(r["l"], r["node"]["id"]): r for r in rows}
    start = (label, id_)

    # depth upstream: breadth-first over incoming edges (ends on rework loops)
    depth = {start: 0}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for e in nodes[u]["ins"]:
            if e is None:
                continue
            v = (e[1], e[2])
            if v in nodes and v not in depth:
                depth[v] = depth[u] + 1
                queue.append(v)

    def ins(k: tuple[str, str]) -> list[list[Any]]:
        return [e for e in nodes[k]["ins"] if e is not None]

    suppliers: dict[tuple[str, str | None], SupplyInfo] = {}
    lots: list[UpstreamLot] = []
    for k, r in nodes.items():
        if k[0] != "MaterialLot":
            continue
        n = r["node"]
        sup = [SupplyInfo(supplier=s[0], name=s[1], status=s[2], date=s[3], qty=s[4], po=s[5])
               for s in r["sup"] if s]
        for s in sup:
            suppliers.setdefault((s.supplier, s.po), s)
        lots.append(UpstreamLot(
            id=k[1], material=n.get("material_id"), status=n.get("status"), qty_received=n.get("qty_received"),
            uom=n.get("uom"), depth=depth.get(k, 0), suppliers=sup,
            inspections=[InspectionInfo(id=i[0], date=i[1], result=i[2], sample_size=i[3], defects=i[4])
                         for i in r["insp"] if i],
            parents=sorted(e[2] for e in ins(k) if e[1] == "MaterialLot"),
        ))

    batch_ids = sorted(k[1] for k in nodes if k[0] == "Batch")
    equipment: dict[str, list[EquipmentUse]] = {}
    documents: dict[str, list[DocumentUse]] = {}
    siblings: dict[str, tuple[int, list[str]]] = {}
    if batch_ids:
        # equipment, documents and siblings depend only on the batch ids: one round trip for all
        calls: list[tuple[str, dict[str, Any]]] = [("trace.batch_equipment", {"ids": batch_ids}),
                                                   ("trace.batch_documents", {"ids": batch_ids})]
        if include_siblings:
            exclude = [k[1] for k in nodes if k[0] == "Serial"]
            calls.append(("trace.siblings", {"ids": batch_ids, "exclude": exclude,
                                             "limit": max(0, sibling_limit)}))
        answers = read_fast_many(store, calls)
        for e in answers[0]:
            equipment.setdefault(e["batch"], []).append(EquipmentUse(
                equipment=e["equipment"], name=e["name"], used_from=e["used_from"], used_to=e["used_to"],
                params=e["params"], operator=e["operator"],
                **_calibration_state(e["used_from"], e["used_to"], e["cal"]),
            ))
        doc_rows = answers[1]
        doc_ids = sorted({d[1] for r in doc_rows for d in r["direct"] + r["via_product"] if d and d[1]})
        versions: dict[str, list[dict[str, Any]]] = {}
        if doc_ids:
            for ver in store.read("trace.document_versions", doc_ids=doc_ids):
                versions.setdefault(ver["doc_id"], []).append(ver)
        for r in doc_rows:
            started = r["started_at"]
            uses: list[DocumentUse] = []
            seen: set[str] = set()
            for via, links in (("batch", r["direct"]), ("product", r["via_product"])):
                for link in links:
                    if not link or not link[0] or link[0] in seen:
                        continue
                    seen.add(link[0])
                    in_effect = None
                    if started:
                        for ver in versions.get(link[1], []):
                            if (ver["effective_from"] is None or str(ver["effective_from"]) <= str(started)) and (
                                ver["effective_to"] is None or str(started) < str(ver["effective_to"])
                            ):
                                in_effect = ver["id"]
                    uses.append(DocumentUse(doc_id=link[1] or link[0], linked=link[0], via=via,
                                            in_effect=in_effect, matches=in_effect == link[0]))
            documents[r["batch"]] = uses
        if include_siblings:
            for srow in answers[2]:
                siblings[srow["batch"]] = (srow["n"], srow["ids"])

    batches = []
    for bid in batch_ids:
        k = ("Batch", bid)
        n = nodes[k]["node"]
        sib = siblings.get(bid, (0, []))
        batches.append(UpstreamBatch(
            id=bid, product=n.get("product_id"), kind=n.get("kind"), status=n.get("status"),
            started_at=n.get("started_at"), finished_at=n.get("finished_at"), depth=depth.get(k, 0),
            inputs=sorted(e[2] for e in ins(k) if e[0] == "CONSUMED_IN"),
            equipment=equipment.get(bid, []), documents=documents.get(bid, []),
            siblings=sib[0], sibling_ids=sib[1],
        ))
    serials = [
        {"id": k[1], "batch": r["node"].get("batch_id"), "status": r["node"].get("status"), "depth": depth.get(k, 0)}
        for k, r in sorted(nodes.items()) if k[0] == "Serial" and k != start
    ]
    quality = sorted(  # one row per (record, node it is about); a CAPA may be both ABOUT and ADDRESSING
        {(q[0], q[1], k[1]): QualityRecord(label=q[0], id=q[1], title=q[2], status=q[3], about=k[1])
         for k, r in nodes.items() for q in r["qs"] if q}.values(),
        key=lambda q: (q.label, q.id, q.about),
    )
    start_node = dict(nodes[start]["node"])
    start_node["label"] = label
    result = BackwardResult(
        query={"key": key, "resolved": {"label": label, "id": id_}, "sibling_limit": sibling_limit},
        start=start_node,
        counts={
            "batches": len(batches), "lots": len(lots), "suppliers": len({s.supplier for s in suppliers.values()}),
            "component_serials": len(serials), "quality_records": len(quality),
            "equipment_uses": sum(len(v) for v in equipment.values()),
            "out_of_calibration": sum(1 for v in equipment.values() for u in v
                                      if u.calibration_state == "out_of_calibration"),
            "sibling_serials": sum(b.siblings for b in batches),
        },
        serials=serials,
        batches=batches,
        lots=lots,
        suppliers=sorted(suppliers.values(), key=lambda s: (s.supplier, s.date or "")),
        quality=quality,
    )
    result.elapsed_ms = round((time.perf_counter() - t0) * 1000, 3)
    return result


__all__ = ["backward_trace", "resolve_key"]
