"""GS1 EPCIS 2.0 import and export: the public surface.

    is_epcis(path)                      -> bool: dispatch test for `tracegraph import`
    load_epcis(path)                    -> ImportBatch (meta["epcis"]): validated + mapped, unwritten
    run_epcis_import(store, batch, actor, source_files=, dry_run=) -> ImportReport (like run_import,
                                          all or nothing: an ImportRun of the import runner)
    resume_epcis_import(store, id, batch, actor, source_files=) -> ImportReport: --resume with the file
    read_epcis(path) / run_epcis(...)   -> the same without the ImportBatch wrapper
    import_epcis(store, path, actor)    -> EpcisImportResult: read + write (audited)
    export_epcis(store, scope)          -> dict: a schema-valid EPCISDocument
    write_plant_epcis(records, out)     -> int: the plant generator's records as EPCIS events

How events map to the graph is described in `epcis_map.py` and docs/epcis.md. Submodules:
epcis_doc (read + JSON Schema), epcis_stream (a file read one event at a time), epcis_spool (the events
held on disk while they are mapped), epcis_body (REST capture bodies, spooled and streamed), epcis_map (events -> facts), epcis_kinds (lot kinds over all
the events), epcis_state (state by event time), epcis_late (packing
captured late), epcis_receipts (receipts captured before their shipment), epcis_retract (error
declarations undo what the erroneous event did), epcis_pending (what waits for a missing piece),
epcis_write (audited writes),
epcis_export (graph -> document).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, Field

from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.clock import Clock
from tracegraph.engine.imports.turns import turn
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders import epcis_write
from tracegraph.loaders.epcis_doc import event_list, extra_context, validate_document
from tracegraph.loaders.epcis_export import ExportScope, build_document, check_document, export_epcis
from tracegraph.loaders.epcis_identity import dedupe
from tracegraph.loaders.epcis_kinds import rekind, settle
from tracegraph.loaders.epcis_late import open_packs, repack_late
from tracegraph.loaders.epcis_map import Mapped, destination_keys, lot_votes, map_events
from tracegraph.loaders.epcis_pending import PendingItem, pending_among, summary, unsettled
from tracegraph.loaders.epcis_receipts import absorb_early_receipts
from tracegraph.loaders.epcis_retract import retract
from tracegraph.loaders.epcis_spool import HOLD_EVENTS, EventSpool
from tracegraph.loaders.epcis_state import settle_state
from tracegraph.loaders.epcis_stream import EventStream
from tracegraph.loaders.epcis_stream import is_epcis_file as is_epcis

if TYPE_CHECKING:
    from tracegraph.engine.imports.runner import ImportBatch, ImportReport


class EpcisBatch(BaseModel):
    """One validated EPCIS document and the graph facts it maps to (not yet written)."""

    model_config = {"arbitrary_types_allowed": True}

    source: str
    document_id: str | None = None
    events: int
    event_types: dict[str, int] = Field(default_factory=dict)
    mapped: Mapped
    #: events already stored with the same eventID and content: left out (re-imports are no-ops)
    known_events: int = 0

    def counts(self) -> dict[str, dict[str, int]]:
        nodes = Counter(k[0] for k in self.mapped.nodes)
        edges = Counter(k[0] for k in self.mapped.edges)
        return {"nodes": dict(sorted(nodes.items())), "edges": dict(sorted(edges.items()))}


class EpcisImportResult(BaseModel):
    import_id: str
    source: str
    dry_run: bool
    events: int
    event_types: dict[str, int]
    nodes: dict[str, int]
    edges: dict[str, int]
    unpacked: int = 0
    audit_entries: int = 0
    #: events already stored with the same eventID and content, left out (a re-import is a no-op)
    known_events: int = 0
    #: what the events named that is still waiting for its missing piece (loaders/epcis_pending.py)
    pending: list[PendingItem] = Field(default_factory=list)


def _known_labels(store: GraphStore | None, ids: Iterable[str | None]) -> dict[str, str]:
    """Labels of lots already in the graph, so a lot produced earlier is consumed as the same node."""
    if store is None:
        return {}
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    rows = store.read("scan.by_keys", ids=ids)
    return {r["node"]["id"]: r["label"] for r in rows}


def _all_uris(events: Iterable[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for e in events:
        for k in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
            out.update(u for u in e.get(k) or [] if isinstance(u, str))
        for k in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
            out.update(q["epcClass"] for q in e.get(k) or [] if isinstance(q, dict) and q.get("epcClass"))
    return out


def load_document(doc: dict[str, Any], source: str = "document", store: GraphStore | None = None) -> EpcisBatch:
    """Validate an already-parsed EPCIS document (or a bare event / event array, wrapped into
    one) and map its events (nothing is written)."""
    from tracegraph.loaders.epcis_input import json_document

    doc = json_document(doc, source)
    validate_document(doc, source)
    return map_document(doc, event_list(doc), source, store)


def load_stream(stream: EventStream, source: str, store: GraphStore | None = None,
                hold: int = HOLD_EVENTS) -> EpcisBatch:
    """Read the events of a stream (each checked as it comes, see epcis_stream.py) and map them.

    The parser holds one event at a time; the events are kept in an EventSpool (past `hold`
    events on disk as compact JSON, decoded one at a time by each pass of the mapping, see
    epcis_spool.py): the mapping decides a lot's kind and each thing's state over all of them,
    and writes all or nothing, so it needs them all, but not all at once as dicts."""
    events = EventSpool(hold)
    try:
        for e in stream:
            events.append(e)
        assert stream.shell is not None
        return map_document(stream.shell, events, source, store)
    finally:
        events.close()


def _scan(events: Sequence[dict[str, Any]]) -> tuple[list[Any], set[str], set[str], set[str], dict[str, set[str]],
                                                    Counter[str]]:
    """What map_document asks the graph about, in one pass over the events: (lot ids, destination
    keys, identifiers named, what receiving events name, lot votes, events by type)."""
    lot_ids: list[Any] = []
    dests: set[str] = set()
    uris: set[str] = set()
    received: set[str] = set()
    votes: dict[str, set[str]] = {}
    types: Counter[str] = Counter()
    for e in events:
        lot_ids.extend(q.get("epcClass") for k in ("inputQuantityList", "outputQuantityList", "quantityList",
                                                   "childQuantityList") for q in e.get(k) or [] if isinstance(q, dict))
        dests |= destination_keys((e,))
        uris |= _all_uris((e,))
        if e.get("type") == "ObjectEvent" and str(e.get("bizStep") or "").endswith("receiving"):
            received.update(u for u in e.get("epcList") or [] if isinstance(u, str))
            received.update(q["epcClass"] for q in e.get("quantityList") or []
                            if isinstance(q, dict) and q.get("epcClass"))
        for uri, vote in lot_votes(e).items():
            votes.setdefault(uri, set()).add(vote)
        types[str(e.get("type"))] += 1
    return lot_ids, dests, uris, received, votes, types


def map_document(doc: dict[str, Any], events: Sequence[dict[str, Any]], source: str,
                 store: GraphStore | None = None) -> EpcisBatch:
    """Map the checked `events` of `doc` (whose @context and id are read; its event list is not).
    `events` is a list or an EventSpool (epcis_spool.py): it is read in passes, never held whole."""
    events, originals, known = dedupe(store, events, source)  # one eventID, one event
    lot_ids, dest_keys, uris, received, votes, types = _scan(events)
    kinds: dict[str, str] = {}
    if store is not None:
        dests = sorted(dest_keys)
        if dests:
            kinds = {r["id"]: r["kind"] for r in store.read("epcis.customer_kinds", ids=dests) if r.get("kind")}
    products: dict[str, str] = {}
    if store is not None:
        from tracegraph.engine.trace.scan import gtin_forms
        from tracegraph.gs1.identifiers import parse_identifier

        gtins = {i.gtin for i in (parse_identifier(u) for u in uris) if i.gtin}
        forms = sorted({f for g in gtins for f in gtin_forms(g)})
        if forms:
            for r in store.read("epcis.products_by_gtin", gtins=forms):
                g14 = str(r["gtin"]).zfill(14)
                if r["id"] != g14:
                    products.setdefault(g14, r["id"])
    opened: list[dict[str, Any]] = []
    if store is not None and received:
        ids = sorted(received)
        by_id: dict[str, dict[str, Any]] = {}
        rows = store.read("epcis.open_shipments", ids=ids) if ids else []
        for r in sorted(rows, key=lambda r: (r.get("date") or "", r["id"])):
            sh = by_id.setdefault(r["id"], {"id": r["id"], "customer_id": r.get("customer_id"), "date": r.get("date"),
                                            "things": []})
            sh["things"].append((r["label"], r["item"]))
        opened = list(by_id.values())
    # a lot's kind from everything the events say about it, the graph's events included (epcis_kinds.py)
    # the votes are gathered once (`_scan`): the kinds, the settling and the mapping read the same votes
    stored_kinds = _known_labels(store, lot_ids + list(votes))
    settled = settle(store, events, stored_kinds, votes)
    kw: dict[str, Any] = {"known_labels": {k: v for k, v in stored_kinds.items() if k not in settled.ids()},
                          "customer_kinds": kinds, "product_ids": products, "open_shipments": opened,
                          "open_packs": _not_declared(open_packs(store, events), originals)}
    mapped = map_events(events, extra_context(doc), kinds=settled.kinds, votes=votes, **kw)
    rekind(mapped, settled, events, extra_context(doc), **kw)
    absorb_early_receipts(store, mapped, events, extra_context(doc), kinds=settled.kinds, **kw)  # epcis_receipts.py
    repack_late(store, mapped, events, extra_context(doc), kinds=settled.kinds, **kw)  # epcis_late.py
    settle_state(store, mapped)  # state by event time, not by order of capture (epcis_state.py)
    # epcis_retract.py: it iterates the events and adds them to a list (`rest + events`), which a spool allows
    retract(store, mapped, cast(list[dict[str, Any]], events), originals, extra_context(doc), kinds=settled.kinds, **kw)
    for eid, original in originals.items():  # error declarations: the erroneous version stays on record
        mapped.nodes[("EpcisEvent", eid)]["original_json"] = original
    return EpcisBatch(source=source, document_id=doc.get("id"), events=len(events),
                      event_types=dict(types), mapped=mapped,
                      known_events=known)


def _not_declared(packs: list[dict[str, Any]], originals: dict[str, str]) -> list[dict[str, Any]]:
    """The graph's open packing intervals minus those an event declared erroneous in this
    document opened: epcis_retract.py undoes them, so the mapping must not continue or close them."""
    wrong: set[tuple[str, str]] = set()
    for text in originals.values():
        e = json.loads(text) if isinstance(text, str) else text
        if e.get("type") == "AggregationEvent" and e.get("action") in ("ADD", "OBSERVE") and e.get("parentID"):
            wrong.update((str(c), str(e["parentID"])) for c in e.get("childEPCs") or [])
    if not wrong:
        return packs
    return [p for p in packs if (p["id"], p["container"]) not in wrong]


def read_epcis(path: str | Path, store: GraphStore | None = None, fmt: str = "auto",
               source: str | None = None) -> EpcisBatch:
    """Read, schema-check and map an EPCIS file (nothing is written): 2.0 JSON / JSON-LD (a
    document, a bare event or an event array) or 1.2 / 2.0 XML (XSD-checked, then converted to
    the JSON-LD form, see epcis_xml.py); `fmt` is "auto" (by content), "epcis-json" or "epcis-xml".

    Raises ValidationFailed listing every problem (XML: line and element; JSON: event index +
    field) when the document does not conform to GS1's XSD / EPCIS 2.0 JSON Schema.

    The file is read as a stream, one event at a time (epcis_stream.py): the parser's memory
    does not grow with the file; the events are held on disk past a few thousand (epcis_spool.py);
    what they map to grows with the file (docs/epcis.md, "What a whole import holds").
    """
    from tracegraph.loaders.epcis_stream import open_events

    p = Path(path)
    return load_stream(open_events(p, fmt, source), source or p.name, store)


def load_epcis(path: str | Path, store: GraphStore | None = None, fmt: str = "auto") -> ImportBatch:
    """The import dispatcher's entry point: an ImportBatch carrying the mapped EPCIS document.

    EPCIS brings nodes and edges the ERP record types do not hold (EpcisEvent, Location,
    Container, BusinessTransaction, CONCERNS, PACKED_IN, unpacking) and omits fields they require
    (a serial observed without its batch), so the record lists stay EMPTY and the mapped document
    travels in `batch.meta["epcis"]`. Write it with `run_epcis_import` (same signature and
    report as `run_import`); `is_epcis_batch(batch)` tells the two apart.
    """
    from tracegraph.engine.imports.runner import ImportBatch

    eb = read_epcis(path, store, fmt)
    return ImportBatch(meta={"format": "epcis", "document_id": eb.document_id, "events": eb.events,
                             "event_types": eb.event_types, "epcis": eb, "path": str(path), "fmt": fmt})


def is_epcis_batch(batch: Any) -> bool:
    return isinstance(getattr(batch, "meta", None), dict) and batch.meta.get("format") == "epcis"


def run_epcis(store: GraphStore, batch: EpcisBatch, actor: Actor, *, dry_run: bool = False,
              clock: Clock | None = None, progress: Callable[..., None] | None = None,
              files: list[Any] | None = None, chunk: int = epcis_write.CHUNK) -> EpcisImportResult:
    """Write a loaded batch all or nothing, as one ImportRun (or, with dry_run, only report what
    it would write)."""
    if dry_run:
        steps, res = epcis_write.plan(batch.mapped)
        res.import_id = "dry-run"
    else:
        waiting = unsettled(batch.mapped)  # taken before the write releases the mapped facts
        res = epcis_write.write(store, batch.mapped, actor, source=batch.source, clock=clock, progress=progress,
                                files=files, chunk=chunk, release=True)
    pending = [] if dry_run else pending_among(store, waiting)
    return EpcisImportResult(import_id=res.import_id, source=batch.source, dry_run=dry_run, events=batch.events,
                             known_events=batch.known_events, pending=pending,
                             event_types=batch.event_types, nodes=res.nodes, edges=res.edges,
                             unpacked=res.unpacked, audit_entries=res.audit_entries)


def run_epcis_import(store: GraphStore, batch: ImportBatch, actor: Actor, *, source_files: list[Any] | None = None,
                     dry_run: bool = False, progress: Callable[[str, int, int], None] | None = None,
                     clock: Clock | None = None, chunk_size: int = epcis_write.CHUNK, **_kw: Any) -> ImportReport:
    """`run_import` for a batch from `load_epcis`: the EPCIS facts are written all or nothing as
    one ImportRun (staged island + commit log, see loaders/epcis_write.py), so `tracegraph import
    --list/--rollback/--resume` and the automatic recovery treat it like an ERP bundle import."""
    with turn():  # one import at a time in this process (engine/imports/turns.py)
        return _run_epcis_import(store, batch, actor, source_files=source_files, dry_run=dry_run, progress=progress,
                                 clock=clock, chunk_size=chunk_size)


def _run_epcis_import(store: GraphStore, batch: ImportBatch, actor: Actor, *, source_files: list[Any] | None,
                      dry_run: bool, progress: Callable[[str, int, int], None] | None, clock: Clock | None,
                      chunk_size: int) -> ImportReport:
    import time

    from tracegraph.engine.imports.runner import ImportReport, TypeCounts, recover_unfinished

    eb: EpcisBatch = batch.meta["epcis"]
    t0 = time.perf_counter()
    if not dry_run and store is not None and recover_unfinished(store, actor, clock=clock) and batch.meta.get("path"):
        # the document was mapped against the graph with a dead run's staged nodes in it: map it
        # again against the graph the recovery left
        eb = read_epcis(batch.meta["path"], store, batch.meta.get("fmt") or "auto")
    if dry_run:  # new vs existing keys, nothing written
        _, _, res = epcis_write.split_new(store, eb.mapped, eb.source)
        res.import_id = "dry-run"
    else:
        unsettled_ids = unsettled(eb.mapped)  # taken before the write releases the mapped facts
        res = epcis_write.write(store, eb.mapped, actor, source=eb.source, clock=clock, progress=progress,
                                files=source_files, chunk=min(chunk_size, epcis_write.CHUNK), release=True)
    counts = {k: TypeCounts(new=res.new_nodes.get(k, v), changed=res.existing_nodes.get(k, 0))
              for k, v in res.nodes.items()}
    counts.update({f"edge:{k}": TypeCounts(new=v) for k, v in res.edges.items()})
    secs = time.perf_counter() - t0
    waiting = summary([] if dry_run else pending_among(store, unsettled_ids))
    items = sum(res.nodes.values()) + sum(res.edges.values())
    return ImportReport(
        import_id=res.import_id, status="dry_run" if dry_run else "committed", dry_run=dry_run, counts=counts,
        files=list(source_files or []), items_written=0 if dry_run else items, audit_entries=res.audit_entries,
        seconds=secs, items_per_s=(items / secs if secs > 0 and not dry_run else 0.0),
        message=f"EPCIS document: {eb.events} events ({', '.join(f'{k} {v}' for k, v in eb.event_types.items())})"
                + (f"; {res.unpacked} unpack(s)" if res.unpacked else "") + (f"; {waiting}" if waiting else ""),
    )


def rollback_epcis_import(store: GraphStore, import_id: str, actor: Actor, *,
                          progress: Callable[[str, int, int], None] | None = None,
                          clock: Clock | None = None) -> ImportReport:
    """`tracegraph import --rollback ID` for an EPCIS run that never reached its commit: its
    staged island and commit log are deleted, the graph is exactly as before."""
    return epcis_write.rollback_run(store, import_id, actor, clock=clock, progress=progress)


def resume_epcis_import(store: GraphStore, import_id: str, batch: ImportBatch, actor: Actor, *,
                        source_files: list[Any], progress: Callable[[str, int, int], None] | None = None,
                        clock: Clock | None = None, chunk_size: int = epcis_write.CHUNK) -> ImportReport:
    """`tracegraph import FILE.jsonld --resume ID`: a committing run is finished from its log
    (the file is not needed); a staging run is rolled back and written again from the same file
    (SHA-256 checked against the run)."""
    from tracegraph.engine.errors import Conflict
    from tracegraph.engine.imports import runner as imp

    info = imp.get_import(store, import_id)
    if info.status != "staging":
        return epcis_write.finish_run(store, import_id, actor, clock=clock, progress=progress)
    recorded = sorted((f.get("name"), f.get("sha256")) for f in info.files)
    given = sorted((f.name, f.sha256) for f in source_files)
    if recorded != given:
        raise Conflict(
            f"the file given is not the file of import {import_id} (SHA-256 differs)",
            hint=f"give the original file, or roll it back with `--rollback {import_id}`",
        )
    epcis_write.rollback_run(store, import_id, actor, clock=clock, progress=progress)
    rep = run_epcis_import(store, batch, actor, source_files=source_files, progress=progress, clock=clock,
                           chunk_size=chunk_size)
    rep.message = f"restarted staging of {import_id} as {rep.import_id}; " + rep.message
    return rep


def import_epcis(store: GraphStore, path: str | Path | dict[str, Any], actor: Actor, *, dry_run: bool = False,
                 clock: Clock | None = None, progress: Callable[[int, int], None] | None = None,
                 source: str | None = None, raw: bytes | None = None) -> EpcisImportResult:
    """Validate, map and write one EPCIS document (a path, or a parsed dict).

    `source` names it in problems and the ImportRun (a path: its file name by default). For a
    parsed dict, `raw` (the bytes it was read from) is what the run records the SHA-256 of."""
    from tracegraph.engine.imports.runner import SourceFile, recover_unfinished

    with turn():  # read, map and write in this process's import turn (engine/imports/turns.py)
        if not dry_run:  # a dead run's staged nodes must not be what this document is mapped against
            recover_unfinished(store, actor, clock=clock)
        if isinstance(path, dict):
            name = source or "document"
            batch = load_document(path, name, store)
            files = [SourceFile.of_bytes(name, raw if raw is not None
                                         else json.dumps(path, sort_keys=True, default=str).encode("utf-8"))]
        else:  # read as a stream (`source`: the name problems and the run give the file)
            batch = read_epcis(path, store, source=source)
            files = [SourceFile.of_path(Path(path), name=source)]
        return run_epcis(store, batch, actor, dry_run=dry_run, clock=clock, progress=progress, files=files)


# ---------------------------------------------------------------------------------------
# the plant generator hook
# ---------------------------------------------------------------------------------------


def _rec(r: Any) -> dict[str, Any]:
    if hasattr(r, "props"):
        try:
            return dict(r.props())
        except TypeError:
            pass
    if hasattr(r, "model_dump"):
        dumped: dict[str, Any] = r.model_dump(by_alias=True)  # a pydantic model: its fields as a dict
        return dumped
    return dict(r)


def plant_events(records: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """EPCIS events for plant records keyed by bundle file stem (`batches`, `serials`, ...):
    TransformationEvents for batches with their consumptions, commissioning ObjectEvents for
    serials, shipping/receiving ObjectEvents for shipments with their lines."""
    from tracegraph.loaders.epcis_export import commissioning_events, shipment_events, transformation_events

    get: Callable[[str], list[dict[str, Any]]] = lambda k: [_rec(r) for r in records.get(k, []) or []]
    products = {p["id"]: p for p in get("products")}
    materials = {m["id"]: m for m in get("materials")}
    lots = {lt["id"]: lt for lt in get("material_lots")}
    batches = {b["id"]: b for b in get("batches")}
    serials = {s["id"]: s for s in get("serials")}

    def gtin_of_product(pid: str | None) -> str | None:
        p = products.get(pid or "")
        return (p or {}).get("gtin") or (pid if pid and pid.isdigit() and len(pid) in (8, 12, 13, 14) else None)

    inputs: dict[str, list[dict[str, Any]]] = {}
    for c in get("consumptions"):
        kind = c.get("input_kind", "lot")
        iid = c["input_id"]
        if kind == "lot":
            lot = lots.get(iid, {})
            gtin = (materials.get(lot.get("material_id", "")) or {}).get("gtin")
            inputs.setdefault(c["batch_id"], []).append({"id": iid, "label": "MaterialLot", "gtin": gtin,
                                                         "qty": c.get("qty"), "uom": c.get("uom")})
        else:
            b = batches.get(iid, {})
            inputs.setdefault(c["batch_id"], []).append({"id": iid, "label": "Batch",
                                                         "gtin": gtin_of_product(b.get("product_id")),
                                                         "qty": c.get("qty"), "uom": c.get("uom")})
    batch_rows = [{"batch": b, "gtin": gtin_of_product(b.get("product_id")), "inputs": inputs.get(bid, [])}
                  for bid, b in batches.items()]
    serial_rows = []
    for s in serials.values():
        b = batches.get(s.get("batch_id") or "", {})
        serial_rows.append({"serial": {**s, "gtin": s.get("gtin") or gtin_of_product(s.get("product_id"))},
                            "batch_id": s.get("batch_id"), "batch_lot": None,
                            "at": b.get("finished_at") or b.get("started_at"), "site": None})
    lines: dict[str, list[dict[str, Any]]] = {}
    for ln in get("shipment_lines"):
        kind = ln.get("item_kind", "serial")
        iid = ln["item_id"]
        if kind == "serial":
            s = serials.get(iid, {})
            lines.setdefault(ln["shipment_id"], []).append(
                {"id": iid, "label": "Serial", "gtin": s.get("gtin") or gtin_of_product(s.get("product_id")),
                 "serial_no": s.get("serial_no"), "qty": 1})
        else:
            b = batches.get(iid, {})
            lines.setdefault(ln["shipment_id"], []).append(
                {"id": iid, "label": "Batch", "gtin": gtin_of_product(b.get("product_id")), "qty": ln.get("qty")})
    ship_rows = [{"shipment": sh, "items": lines.get(sh["id"], []), "customer_id": sh.get("customer_id")}
                 for sh in get("shipments")]
    events = transformation_events(batch_rows) + commissioning_events(serial_rows) + shipment_events(ship_rows)
    from tracegraph.loaders.epcis_map import to_utc

    events.sort(key=lambda e: to_utc(e["eventTime"]) or "")
    return events


def write_plant_epcis(batch_or_iter: Any, out_path: str | Path) -> int:
    """Write plant records as one EPCIS 2.0 document (schema-checked); returns the event count.

    `batch_or_iter` is an object with a `records` dict (file stem -> records), such a dict itself,
    or an iterable of such objects/dicts (merged). Records may be pydantic models or dicts.
    """
    single = isinstance(batch_or_iter, dict) or hasattr(batch_or_iter, "records") \
        or hasattr(batch_or_iter, "record_lists")
    parts = [batch_or_iter] if single else list(batch_or_iter)
    merged: dict[str, list[Any]] = {}
    for part in parts:
        if hasattr(part, "record_lists"):  # engine.imports.ImportBatch
            recs = dict(part.record_lists())
        else:
            recs = part.records if hasattr(part, "records") else part
        for k, v in recs.items():
            merged.setdefault(k, []).extend(v or [])
    events = plant_events(merged)
    doc = build_document(events)
    check_document(doc)
    Path(out_path).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(events)


PLANT_FILES = ("products", "materials", "material_lots", "batches", "serials", "consumptions", "shipments",
               "shipment_lines")


def bundle_to_epcis(bundle_dir: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """The generator hook (`tracegraph generate --format epcis`): the CSV bundle in `bundle_dir`
    as one EPCIS 2.0 document `out_dir/plant-events.jsonld`. Returns {file, events}."""
    import csv

    src, out = Path(bundle_dir), Path(out_dir)
    records: dict[str, list[dict[str, Any]]] = {}
    for stem in PLANT_FILES:
        f = src / f"{stem}.csv"
        if f.is_file():
            with open(f, newline="", encoding="utf-8") as fh:
                records[stem] = [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(fh)]
    out.mkdir(parents=True, exist_ok=True)
    target = out / "plant-events.jsonld"
    n = write_plant_epcis(records, target)
    return {"file": str(target), "events": n}


__all__ = ["bundle_to_epcis",
    "EpcisBatch", "EpcisImportResult", "ExportScope", "is_epcis", "is_epcis_batch", "load_epcis", "read_epcis",
    "load_document", "load_stream", "map_document", "run_epcis", "run_epcis_import", "resume_epcis_import",
    "rollback_epcis_import",
    "import_epcis", "export_epcis", "write_plant_epcis", "plant_events",
]
