"""EPCIS read side: peak memory and events/s of the streaming reader against the whole-document
load, on large generated documents (issue 16: "memory stays bounded for a 1 GB document").

    python -m perf.bench_epcis_stream --mb 100 --baseline-mb 100      # JSON-LD and XML, 100 MB each
    python -m perf.bench_epcis_stream --mb 1000 --baseline-mb 0       # 1 GB streamed only

Documents are written to disk as a stream (a batch of four events, repeated with new
identifiers: a TransformationEvent, a commissioning ObjectEvent of --epcs units, an
AggregationEvent packing them into a case, a shipping ObjectEvent of the case). Every measurement
runs in its own subprocess, so its peak RSS (ru_maxrss) is its own; "python" is the interpreter
with the readers imported and GS1's schemas compiled (the floor of every row), and
`read_peak_mb` is how far the peak rose above the RSS the reading started from (VmHWM reset
through /proc/self/clear_refs after the imports: the memory the reading itself needed). Rows:
- stream: `epcis_stream.open_events` iterated, each event dropped (the parser's memory);
- stream+hold: the same, events kept in a list (what `load_stream` held before its EventSpool);
- whole: `epcis_input.read_document` + `epcis_doc.validate_document` (the reader before);
- map (with --map-mb): `epcis.read_epcis` without a store (read + check + map: the mapped facts).
Writes perf/results/epcis-stream-<mb>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
MARK = "ZQZ"  # replaced by the 6-digit batch-group number in each copy of the template


def _template(epcs: int, group: int) -> list[dict[str, Any]]:
    """`group` batches of four events; MARK in identifiers makes each copy new."""
    events: list[dict[str, Any]] = []
    for b in range(group):
        lot = f"urn:epc:class:lgtin:0614141.107346.L{MARK}x{b}"
        units = [f"urn:epc:id:sgtin:0614141.107346.{MARK}x{b}x{i}" for i in range(epcs)]
        case = f"urn:epc:id:sscc:0614141.{MARK}{b:04d}"
        t = f"2026-03-01T{b % 24:02d}:{b % 60:02d}:00.000Z"
        common = {"eventTime": t, "eventTimeZoneOffset": "+00:00",
                  "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
                  "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"}}
        events.append({"type": "TransformationEvent", **common, "eventID": f"urn:tracegraph:bench:{MARK}:{b}:t",
                       "inputQuantityList": [{"epcClass": f"urn:epc:class:lgtin:4012345.011111.M{MARK}x{b}",
                                              "quantity": 2.5, "uom": "KGM"}],
                       "outputQuantityList": [{"epcClass": lot, "quantity": epcs}],
                       "bizStep": "commissioning", "disposition": "active"})
        events.append({"type": "ObjectEvent", **common, "eventID": f"urn:tracegraph:bench:{MARK}:{b}:c",
                       "epcList": units, "action": "ADD", "bizStep": "commissioning", "disposition": "active",
                       "ilmd": {"cbvmda:lotNumber": f"L{MARK}x{b}", "cbvmda:itemExpirationDate": "2028-12-31"}})
        events.append({"type": "AggregationEvent", **common, "eventID": f"urn:tracegraph:bench:{MARK}:{b}:p",
                       "parentID": case, "childEPCs": units, "action": "ADD", "bizStep": "packing",
                       "disposition": "in_progress"})
        events.append({"type": "ObjectEvent", **common, "eventID": f"urn:tracegraph:bench:{MARK}:{b}:s",
                       "epcList": [case], "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
                       "bizTransactionList": [{"type": "desadv",
                                               "bizTransaction": f"urn:epcglobal:cbv:bt:0614141000005:D{MARK}x{b}"}],
                       "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:4012345.00000"}]})
    return events


def write_documents(folder: Path, mb: float, epcs: int = 64, group: int = 50,
                    formats: tuple[str, ...] = ("json", "xml")) -> dict[str, Any]:
    """EPCIS 2.0 JSON-LD and XML documents of about `mb` MB each (`formats`), written as a stream."""
    from tracegraph.loaders.epcis_doc import EPCIS_CONTEXT_URL
    from tracegraph.loaders.epcis_xml_out import document_to_xml

    events = _template(epcs, group)
    head = {"@context": [EPCIS_CONTEXT_URL], "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-03-02T00:00:00.000Z"}
    chunk_json = ",\n".join(json.dumps(e, ensure_ascii=False) for e in events)
    xml = document_to_xml({**head, "epcisBody": {"eventList": events}}, "2.0").decode("utf-8")
    a, b = xml.index("<EventList>") + len("<EventList>"), xml.rindex("</EventList>")
    xml_head, chunk_xml, xml_tail = xml[:a], xml[a:b], xml[b:]
    target = int(mb * 1_000_000)
    out: dict[str, Any] = {}
    for kind, path in (("json", folder / f"doc-{mb:g}mb.jsonld"), ("xml", folder / f"doc-{mb:g}mb.xml")):
        if kind not in formats:
            continue
        chunk, n = (chunk_json, 0) if kind == "json" else (chunk_xml, 0)
        with open(path, "w", encoding="utf-8") as fh:
            if kind == "json":
                fh.write(json.dumps(head)[:-1] + ', "epcisBody": {"eventList": [\n')
            else:
                fh.write(xml_head)
            while fh.tell() < target:
                if kind == "json" and n:
                    fh.write(",\n")
                fh.write(chunk.replace(MARK, f"{n:06d}"))
                n += 1
            fh.write("\n]}}\n" if kind == "json" else xml_tail)
        out[kind] = {"path": str(path), "bytes": path.stat().st_size, "events": n * len(events)}
    return out


# ---------------------------------------------------------------------------------------
# one measurement (in a subprocess)
# ---------------------------------------------------------------------------------------


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith(field + ":"))


def _reset_peak() -> bool:
    """Linux: the peak RSS (VmHWM) restarts from the current RSS (clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measure(mode: str, path: str) -> dict[str, Any]:
    from tracegraph.loaders.epcis_doc import fast_validator
    from tracegraph.loaders.epcis_xml import xml_schema

    fast_validator()
    xml_schema("2.0")
    reset = _reset_peak()
    start_kb = _status_kb("VmRSS")
    t0 = time.perf_counter()
    n = 0
    if mode == "python":
        pass
    elif mode in ("stream", "stream+hold"):
        from tracegraph.loaders.epcis_stream import open_events

        held = []
        s = open_events(path)
        for e in s:
            n += 1
            if mode == "stream+hold":
                held.append(e)
        assert s.streamed, "read whole"
    elif mode == "whole":
        from tracegraph.loaders.epcis_doc import event_list, validate_document
        from tracegraph.loaders.epcis_input import read_document

        doc = read_document(path)
        validate_document(doc, Path(path).name)
        n = len(event_list(doc))
    elif mode == "map":
        from tracegraph.loaders.epcis import read_epcis

        n = read_epcis(path).events
    sec = time.perf_counter() - t0
    out = {"mode": mode, "events": n, "seconds": round(sec, 2), "peak_rss_mb": round(_peak_mb(), 1)}
    if reset:  # the growth of the peak over the RSS the reading started from
        out["read_peak_mb"] = round((_status_kb("VmHWM") - start_kb) / 1024, 1)
    return out


def _run(mode: str, path: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    r = subprocess.run([sys.executable, "-m", "perf.bench_epcis_stream", "--measure", mode, path],
                       capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        return {"mode": mode, "error": (r.stderr or r.stdout).strip().splitlines()[-1:]}
    res: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return res


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=100, help="size of the streamed documents (MB)")
    ap.add_argument("--baseline-mb", type=float, default=100, help="size for the whole-document load (MB; 0: none)")
    ap.add_argument("--map-mb", type=float, default=0, help="also read + map a document of this size (MB)")
    ap.add_argument("--epcs", type=int, default=64)
    ap.add_argument("--hold-large", action="store_true", help="also stream+hold the --mb documents")
    ap.add_argument("--dir", default=None, help="where to write the documents (default: a temporary folder)")
    ap.add_argument("--measure", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        res = measure(*args.measure)
        print(json.dumps(res))
        return res
    out: dict[str, Any] = {"mb": args.mb, "baseline_mb": args.baseline_mb, "epcs_per_event": args.epcs, "rows": []}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        sizes = sorted({args.mb} | {mb for mb in (args.baseline_mb, args.map_mb) if mb})
        docs = {mb: write_documents(folder, mb, args.epcs) for mb in sizes}
        base = _run("python", docs[sizes[0]]["json"]["path"])
        out["python_peak_rss_mb"] = base["peak_rss_mb"]
        print(f"python (readers imported, schemas compiled): {base['peak_rss_mb']} MB peak RSS", flush=True)
        plan = [(args.baseline_mb, m) for m in ("whole", "stream", "stream+hold") if args.baseline_mb]
        if args.mb != args.baseline_mb:
            plan += [(args.mb, "stream")] + ([(args.mb, "stream+hold")] if args.hold_large else [])
        if args.map_mb:
            plan += [(args.map_mb, "map")]
        for mb, mode in plan:
            for kind in ("json", "xml"):
                d = docs[mb][kind]
                r = _run(mode, d["path"])
                r.update({"format": kind, "doc_mb": round(d["bytes"] / 1e6, 1)})
                if "error" not in r:
                    assert r["events"] == d["events"], (r, d)
                    r["events_per_s"] = round(r["events"] / r["seconds"]) if r["seconds"] else None
                    r["mb_per_s"] = round(d["bytes"] / 1e6 / r["seconds"], 1) if r["seconds"] else None
                    r["above_python_mb"] = round(r["peak_rss_mb"] - base["peak_rss_mb"], 1)
                out["rows"].append(r)
                print(json.dumps(r), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"epcis-stream-{args.mb:g}.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
