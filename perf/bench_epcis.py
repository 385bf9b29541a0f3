"""EPCIS import throughput against the ERP bundle import of the same plant, in one run (issue 16).

    python -m perf.bench_epcis                             # 36k serials: ~100k events, one per unit
    python -m perf.bench_epcis --serials 100000 --shape batched   # ~5k events naming 280k EPCs

The same generated plant (same seed) is written as a CSV bundle and as one EPCIS 2.0 JSON-LD
document; the document is also written as EPCIS 2.0 XML (the exporter's XSD-checked form). Each
is imported, audited and all or nothing, into its own fresh graph on one embedded FalkorDB
(appendfsync always, as in production).

Two shapes of the same plant's events (`--shape`):
- `unit` (default): one ObjectEvent per unit and step, as a packaging line or a scanner sends
  them (each commissioning, shipping and receiving event of the generator split into one event
  per EPC; transformations as they are): about 2.8 events per serial, so 36,000 serials make a
  document of ~100,000 events;
- `batched`: the generator's own events, one per batch or shipment, each naming many EPCs.

Prints events/s and EPCs/s (objects named: EPCs and quantities) for JSON-LD and XML, items/s for
the bundle, and each EPCIS import's time relative to the bundle's; writes
perf/results/epcis-<shape>-<serials>.json (`batched`: epcis-<serials>.json as before). The goal in
issue 16 is >= 20,000 events/s.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def one_event_per_unit(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each ObjectEvent naming several EPCs as one event per EPC (same fields, its own eventID)."""
    import uuid

    out: list[dict[str, Any]] = []
    for e in events:
        epcs = e.get("epcList") or []
        if e.get("type") != "ObjectEvent" or len(epcs) < 2:
            out.append(e)
            continue
        for u in epcs:
            out.append({**e, "epcList": [u],
                        "eventID": "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{e['eventID']}|{u}"))})
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from tracegraph.engine.access.actor import Actor
    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.engine.stores.server import EmbeddedServer
    from tracegraph.loaders.bundle import load_bundle
    from tracegraph.loaders.epcis import import_epcis
    from tracegraph.loaders.epcis_xml_out import document_to_xml
    from tracegraph.loaders.generator import generate_bundle

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serials", type=int, default=36_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--shape", choices=("unit", "batched"), default="unit",
                    help="one event per unit (default) or the generator's batched events")
    ap.add_argument("--no-xml", action="store_true", help="JSON-LD only")
    args = ap.parse_args(argv)
    actor = Actor("bench", "Bench Runner", frozenset({"system"}))
    out: dict[str, Any] = {"serials": args.serials, "seed": args.seed, "shape": args.shape, "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        generate_bundle(t / "plant", serials=args.serials, seed=args.seed, fmt="both")
        doc_path = next((t / "plant" / "epcis").glob("*.jsonld"))
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
        if args.shape == "unit":
            doc["epcisBody"]["eventList"] = one_event_per_unit(doc["epcisBody"]["eventList"])
            doc_path = t / "plant-units.jsonld"
            doc_path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        events = len(doc["epcisBody"]["eventList"])
        #: what the events name (the generator batches: one commissioning event carries a batch's units)
        named = sum(len(e.get(k) or []) for e in doc["epcisBody"]["eventList"]
                    for k in ("epcList", "childEPCs", "inputEPCList", "outputEPCList", "quantityList",
                              "childQuantityList", "inputQuantityList", "outputQuantityList"))
        out["events"], out["objects_named"] = events, named
        xml_path = t / "plant.xml"
        if not args.no_xml:
            xml_path.write_bytes(document_to_xml(doc, "2.0"))
        server = EmbeddedServer(t / "db", appendfsync="always")
        server.ensure_running()
        try:
            def fresh(name: str) -> FalkorDBStore:
                s = FalkorDBStore(unix_socket_path=str(server.socket_path), graph=name, server=server)
                s.drop_graph()
                s.apply_schema()
                return s

            from tracegraph.engine.imports.runner import run_import

            s = fresh("bundle")
            b = load_bundle(t / "plant")
            t0 = time.perf_counter()
            rep = run_import(s, b.batch, actor, source_files=b.files)
            bundle_s = time.perf_counter() - t0
            out["rows"].append({"what": "ERP bundle (CSV)", "seconds": round(bundle_s, 2), "items": rep.items_written,
                                "items_per_s": round(rep.items_written / bundle_s)})
            docs = [("EPCIS 2.0 JSON-LD", doc_path)] + ([] if args.no_xml else [("EPCIS 2.0 XML", xml_path)])
            for what, path in docs:
                s = fresh("epcis_" + path.suffix.strip("."))
                t0 = time.perf_counter()
                res = import_epcis(s, path, actor)
                sec = time.perf_counter() - t0
                assert res.events == events, (what, res.events, events)
                out["rows"].append({"what": what, "seconds": round(sec, 2), "events": events,
                                    "events_per_s": round(events / sec), "objects_per_s": round(named / sec),
                                    "relative_to_bundle": round(sec / bundle_s, 2)})
        finally:
            server.stop()
    print(f"{out['events']:,} events naming {out['objects_named']:,} objects (EPCs and quantities), "
          f"shape {args.shape}")
    for r in out["rows"]:
        rate = (f"{r['events_per_s']:>8,} events/s {r['objects_per_s']:>8,} EPCs/s" if "events_per_s" in r
                else f"{r['items_per_s']:>8,} items/s ")
        rel = f"  {r['relative_to_bundle']}x the bundle's time" if "relative_to_bundle" in r else ""
        print(f"{r['what']:22s} {r['seconds']:7.2f} s {rate}{rel}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    name = f"epcis-{args.serials}.json" if args.shape == "batched" else f"epcis-{args.shape}-{args.serials}.json"
    (RESULTS / name).write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
