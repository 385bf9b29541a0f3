"""Graph -> EPCIS 2.0 document.

Two sources of events, so that an export says everything the graph knows about the scope:
1. events that came in as EPCIS: their ORIGINAL JSON, stored on the EpcisEvent node (extensions,
   sensor data, error declarations and all), so import(export(x)) rebuilds the same graph;
2. facts that came from elsewhere (CSV bundles, the plant generator, commands): synthesised as
   standard events: commissioning ObjectEvents for units, TransformationEvents for batches,
   AggregationEvents for containers, shipping/receiving ObjectEvents for shipments.
Keys that are already URIs travel as they are; units and lots with a GTIN become Digital Links;
anything else becomes `urn:tracegraph:<Label>:<key>`, which the importer turns back into the key.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from tracegraph.engine.errors import NotFound, Problem, ValidationFailed
from tracegraph.engine.imports.runner import staging_ids
from tracegraph.engine.stores.base import GraphStore
from tracegraph.gs1.identifiers import (
    PRIVATE_PREFIX,
    lgtin_digital_link,
    private_urn,
    sgtin_digital_link,
)
from tracegraph.loaders.epcis_doc import EPCIS_CONTEXT_URL, is_gs1_context_url, validator

#: the one tracegraph extension: ILMD `tracegraph:productId` names the product of units that have
#: no GTIN (ERP part numbers), declared in @context like any EPCIS extension namespace
TG_PRODUCT = "tracegraph:productId"
TG_CONTEXT = {"tracegraph": "https://ns.tracegraph.dev/epcis/"}


class ExportScope(BaseModel):
    """What to export: everything, one batch with its units, or a lot's forward trace."""

    kind: Literal["all", "batch", "lot"] = "all"
    id: str | None = None


# ---------------------------------------------------------------------------------------
# identifiers and times
# ---------------------------------------------------------------------------------------


def _is_uri(key: str) -> bool:
    return key.startswith(("urn:", "http://", "https://"))


def uri_for(label: str, key: str, *, gtin: str | None = None, serial: str | None = None,
            lot: str | None = None) -> str:
    """The URI a node travels under in EPCIS (see the module docstring)."""
    if _is_uri(key):
        return key
    if label == "Serial" and gtin and serial and gtin.isdigit():
        return sgtin_digital_link(gtin.zfill(14), serial)
    if label in ("Batch", "MaterialLot") and gtin and gtin.isdigit() and len(gtin) in (8, 12, 13, 14):
        return lgtin_digital_link(gtin.zfill(14), lot or key)
    return private_urn(label, key)


def epcis_time(value: str | None, fallback: str = "1970-01-01T00:00:00+00:00") -> str:
    """A stored timestamp or date -> an EPCIS dateTime with offset."""
    v = value or fallback
    if len(v) == 10:
        v = v + "T00:00:00+00:00"
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        dt = datetime.fromisoformat(fallback)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def _eid(*parts: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "tracegraph:" + ":".join(parts)))


def _content_ids(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each event made here an eventID derived from what it is about AND its content.

    Why: an eventID names one immutable event (a repository refuses a known eventID with other
    content). Re-exporting unchanged data yields the same IDs, so a partner's repository sees a
    re-send as a no-op; data that changed (a batch that gained units) yields a new event."""
    for ev in events:
        body = {k: v for k, v in ev.items() if k != "eventID"}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()
        ev["eventID"] = _eid(str(ev["eventID"]), digest)
    return events


def _base(etype: str, when: str | None, eid: str, **fields: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {"type": etype, "eventID": eid, "eventTime": epcis_time(when),
                          "eventTimeZoneOffset": "+00:00"}
    ev.update({k: v for k, v in fields.items() if v not in (None, [], {})})
    return ev


def _qty(uri: str, qty: Any, uom: Any) -> dict[str, Any]:
    q: dict[str, Any] = {"epcClass": uri}
    if qty is not None:
        q["quantity"] = float(qty)
        if uom and re.fullmatch(r"[A-Z0-9]{2,3}", str(uom)):
            q["uom"] = str(uom)
    return q


# ---------------------------------------------------------------------------------------
# synthesis from graph rows (also used by write_plant_epcis with rows built from records)
# ---------------------------------------------------------------------------------------


def commissioning_events(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One commissioning ObjectEvent per batch for units no EPCIS event describes."""
    groups: dict[str, list[dict[str, Any]]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = r["serial"]
        bid = r.get("batch_id") or ""
        groups.setdefault(bid, []).append(r)
        meta.setdefault(bid, r)
    out = []
    for bid, rs in groups.items():
        epcs = []
        for r in rs:
            s = r["serial"]
            epcs.append(uri_for("Serial", s["id"], gtin=s.get("gtin") or r.get("gtin"), serial=s.get("serial_no")))
        m = meta[bid]
        ilmd: dict[str, Any] = {}
        if bid:
            ilmd["cbvmda:lotNumber"] = m.get("batch_lot") or bid
        pid = next((r["serial"].get("product_id") for r in rs if r["serial"].get("product_id")), None)
        if pid and any(u.startswith(PRIVATE_PREFIX) for u in epcs):
            ilmd[TG_PRODUCT] = pid  # units without a GTIN: name their product (tracegraph extension)
        exp = next((r["serial"].get("expiry") for r in rs if r["serial"].get("expiry")), None)
        if exp:
            ilmd["cbvmda:itemExpirationDate"] = exp[:10]
        site = m.get("site")
        ev = _base("ObjectEvent", m.get("at"), _eid("commission", bid or epcs[0]), action="ADD",
                   bizStep="commissioning", disposition="active", epcList=sorted(set(epcs)), ilmd=ilmd or None,
                   bizLocation={"id": site} if site and _is_uri(site) else None)
        out.append(ev)
    return _content_ids(out)


def transformation_events(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One TransformationEvent per batch: lots consumed -> the batch (and its units)."""
    out = []
    for r in rows:
        b = r["batch"]
        gtin = b.get("gtin") or r.get("gtin")
        inputs = [i for i in r.get("inputs") or [] if i]
        if not inputs:
            continue
        inq = [_qty(uri_for(i["label"], i["id"], gtin=i.get("gtin"), lot=i.get("lot_no")), i.get("qty"), i.get("uom"))
               for i in inputs]
        out_uri = uri_for("Batch", b["id"], gtin=gtin, lot=b.get("lot_no"))
        qty = b.get("qty")
        outq = [_qty(out_uri, qty, b.get("uom"))]
        ev = _base("TransformationEvent", b.get("finished_at") or b.get("started_at") or b.get("created_at"),
                   _eid("transform", b["id"]), inputQuantityList=inq, outputQuantityList=outq,
                   bizStep="commissioning", disposition="active")
        out.append(ev)
    return _content_ids(out)


def shipment_events(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A shipping event per shipment, and a receiving event when it was delivered."""
    out = []
    for r in rows:
        sh = r["shipment"]
        items = [i for i in r.get("items") or [] if i]
        if not items:
            continue
        epcs = [uri_for("Serial", i["id"], gtin=i.get("gtin"), serial=i.get("serial_no"))
                for i in items if i["label"] == "Serial"]
        qtys = [_qty(uri_for(i["label"], i["id"], gtin=i.get("gtin"), lot=i.get("lot_no")), i.get("qty"), None)
                for i in items if i["label"] in ("Batch", "MaterialLot")]
        desadv = sh["id"] if _is_uri(sh["id"]) else private_urn("Shipment", sh["id"])
        cust = r.get("customer_id") or sh.get("customer_id")
        dest = [{"type": "owning_party", "destination": cust if _is_uri(cust) else private_urn("Customer", cust)}] \
            if cust else None
        src = sh.get("from_id")
        source = [{"type": "owning_party", "source": src if _is_uri(src) else private_urn("Customer", src)}] \
            if src else None
        common = dict(epcList=sorted(set(epcs)) or None, quantityList=qtys or None,
                      bizTransactionList=[{"type": "desadv", "bizTransaction": desadv}],
                      sourceList=source, destinationList=dest)
        if not epcs and not qtys:
            continue
        out.append(_base("ObjectEvent", sh.get("date"), _eid("ship", sh["id"]), action="OBSERVE",
                         bizStep="shipping", disposition="in_transit", **common))
        if sh.get("delivered_at"):
            out.append(_base("ObjectEvent", sh["delivered_at"], _eid("receive", sh["id"]), action="OBSERVE",
                             bizStep="receiving", disposition="in_progress", **common))
    return _content_ids(out)


def aggregation_events(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        k = r["container"]
        kids = [c for c in r.get("children") or [] if c]
        if not kids:
            continue
        parent = k["id"] if _is_uri(k["id"]) else private_urn("Container", k["id"])
        children = sorted({uri_for(c["label"], c["id"], gtin=c.get("gtin"), serial=c.get("serial_no")) for c in kids})
        out.append(_base("AggregationEvent", k.get("created_at"), _eid("pack", k["id"]), action="ADD",
                         bizStep="packing", disposition="in_progress", parentID=parent, childEPCs=children))
    return _content_ids(out)


# ---------------------------------------------------------------------------------------
# the document
# ---------------------------------------------------------------------------------------


def build_document(events: list[dict[str, Any]], contexts: Iterable[Any] = (), *,
                   created: str | None = None) -> dict[str, Any]:
    ctx: list[Any] = [EPCIS_CONTEXT_URL]
    for c in contexts:
        # GS1's own contexts (the full one under another address, the "simple" one) are @protected
        # and define the same terms differently: listed after the full context they make JSON-LD
        # processors fail ("protected term redefinition"). The export speaks the full context only.
        if is_gs1_context_url(c):
            continue
        if c not in ctx:
            ctx.append(c)
    if any(TG_PRODUCT in (e.get("ilmd") or {}) for e in events) and TG_CONTEXT not in ctx:
        ctx.append(TG_CONTEXT)
    return {
        "@context": ctx,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": epcis_time(created or datetime.now(UTC).isoformat()),
        "epcisBody": {"eventList": events},
    }


def check_document(doc: dict[str, Any]) -> None:
    """Refuse to hand out a document that does not validate against the EPCIS 2.0 schema."""
    from tracegraph.loaders.epcis_doc import fast_ok

    if fast_ok(doc):
        return
    errs = list(validator().iter_errors(doc))
    if errs:
        raise ValidationFailed(
            f"the exported EPCIS document does not validate ({len(errs)} problems)",
            [Problem(record="export", field="/".join(map(str, e.absolute_path)), message=e.message[:300]) for e in errs],
            hint="this is a tracegraph bug: report it with the scope you exported",
        )


def _scope_ids(store: GraphStore, scope: ExportScope) -> list[str] | None:
    if scope.kind == "all":
        return None
    if not scope.id:
        raise ValidationFailed(f"export scope {scope.kind!r} needs an id", hint="e.g. --batch B-2026-001")
    if scope.kind == "batch":
        rows = store.read("epcis.scope_batch", id=scope.id)
        if not rows or not rows[0]["ids"]:
            raise NotFound(f"no batch {scope.id!r}", hint="check the batch id (tracegraph scan can find it)")
        return list(rows[0]["ids"])
    for label in ("MaterialLot", "Batch"):
        rows = store.read("epcis.scope_forward", id=scope.id, label=label)
        if rows and rows[0]["ids"]:
            return list(rows[0]["ids"])
    raise NotFound(f"no material lot or batch {scope.id!r}", hint="check the lot code")


def export_epcis(store: GraphStore, scope: ExportScope | None = None) -> dict[str, Any]:
    """An EPCISDocument (schema-checked) with every event about the scope; see the module docstring."""
    scope = scope or ExportScope()
    ids = _scope_ids(store, scope)
    everything = ids is None
    staging = staging_ids(store)
    stored = (store.read("epcis.events_all", staging=staging) if everything
              else store.read("epcis.events_for", ids=ids, staging=staging))
    events: list[tuple[str, dict[str, Any]]] = []
    contexts: list[Any] = []
    for row in stored:
        events.append((row.get("event_time") or "", json.loads(row["json"])))
        for c in json.loads(row.get("context") or "[]"):
            if c not in contexts:
                contexts.append(c)
    params = {"all": everything, "ids": ids or []}
    synth = (
        transformation_events(store.read("epcis.synth_batches", **params))
        + commissioning_events(store.read("epcis.synth_serials", **params))
        + aggregation_events(store.read("epcis.synth_containers", **params))
        + shipment_events(store.read("epcis.synth_shipments", **params))
    )
    from tracegraph.loaders.epcis_map import to_utc

    for ev in synth:
        events.append((to_utc(ev["eventTime"]) or "", ev))
    events.sort(key=lambda x: x[0])
    doc = build_document([e for _, e in events], contexts)
    check_document(doc)
    return doc


__all__ = ["ExportScope", "export_epcis", "build_document", "check_document", "uri_for", "epcis_time",
           "commissioning_events", "transformation_events", "shipment_events", "aggregation_events"]
