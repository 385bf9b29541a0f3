"""The streaming EPCIS reader (loaders/epcis_stream.py) against the whole-document reader.

Same events (values, types, order), same document shell, same refusals with the same problems,
for every EPCIS file of the public corpus and the fixtures; and its memory does not grow with
the document (JSON: tracemalloc; XML: peak RSS of a subprocess, since libxml2's tree is not seen
by tracemalloc).
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from conftest import EPCIS_DIR
from tracegraph.engine.errors import ValidationFailed
from tracegraph.loaders.epcis_doc import EVENT_TYPES, event_list, validate_document
from tracegraph.loaders.epcis_input import detect_format, read_document
from tracegraph.loaders.epcis_stream import EventStream, is_epcis_file, open_events, without_events

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def _files() -> list[Path]:
    out = []
    for base in (EPCIS_DIR, FIXTURES):
        for p in sorted(base.rglob("*")):
            if p.is_file() and detect_format(p) in ("epcis-json", "epcis-xml"):
                out.append(p)
    return out


def _whole(p: Path) -> tuple[Any, ...]:
    try:
        doc = read_document(p)
        validate_document(doc, p.name)
        return ("ok", without_events(doc), event_list(doc))
    except ValidationFailed as exc:
        return ("refused", exc.message, [(q.record, q.field, q.message, q.value, q.source) for q in exc.problems])


def _streamed(p: Path) -> tuple[tuple[Any, ...], EventStream]:
    s = open_events(p)
    try:
        events = list(s)
        return ("ok", s.shell, events), s
    except ValidationFailed as exc:
        return ("refused", exc.message, [(q.record, q.field, q.message, q.value, q.source) for q in exc.problems]), s


def _is_document(p: Path) -> bool:
    """An EPCISDocument / EPCISQueryDocument (not a bare event, master data, a capture job...)."""
    if detect_format(p) == "epcis-xml":
        head = p.read_bytes()[:4096]
        return b"EPCISDocument" in head or b"EPCISQueryDocument" in head
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("type") in ("EPCISDocument", "EPCISQueryDocument")


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    def canon(x: tuple[Any, ...]) -> str:
        x = list(x)
        if x[0] == "ok" and isinstance(x[1], dict) and x[1].get("creationDate"):
            x[1] = {**x[1], "creationDate": x[1]["creationDate"][:10]}  # a wrapped array's is "now"
        # types matter: 1 and 1.0 are different JSON for the graph (json.dumps keeps them apart)
        return json.dumps(x, sort_keys=True, default=str)

    return canon(a) == canon(b)


def test_stream_gives_what_the_whole_document_gives_for_the_corpus() -> None:
    files = _files()
    assert len(files) > 250, "the public corpus is not there (TRACEGRAPH_SHARED_DIR)"
    differ, not_streamed, refused, accepted = [], [], 0, 0
    for p in files:
        old = _whole(p)
        new, stream = _streamed(p)
        if not _same(old, new):
            differ.append((str(p.relative_to(p.parents[2])), json.dumps(old, default=str)[:300],
                           json.dumps(new, default=str)[:300]))
        if old[0] == "ok" and old[2] and _is_document(p) and not stream.streamed:
            not_streamed.append(str(p))
        refused += old[0] == "refused"
        accepted += old[0] == "ok"
    assert not differ, differ[:5]
    assert not not_streamed, not_streamed  # every document with events is streamed, none read whole
    assert refused > 50 and accepted > 150  # both sides of the corpus were compared


def _doc_text(events: list[dict[str, Any]], context_last: bool = False, doc_type: str = "EPCISDocument") -> str:
    body: dict[str, Any] = {"eventList": events}
    if doc_type == "EPCISQueryDocument":
        body = {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": events}}}
    head = {"type": doc_type, "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z"}
    ctx = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                        {"ex": "https://example.com/ns/"}]}
    doc = {**head, "epcisBody": body, **ctx} if context_last else {**ctx, **head, "epcisBody": body}
    return json.dumps(doc, indent=1)


def _event(i: int, **extra: Any) -> dict[str, Any]:
    return {"type": "ObjectEvent", "eventTime": "2026-01-01T10:00:00Z", "eventTimeZoneOffset": "+01:00",
            "eventID": f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "action": "OBSERVE",
            "epcList": [f"urn:epc:id:sgtin:0614141.107346.{i}"], "bizStep": "inspecting",
            "quantityList": [{"epcClass": "urn:epc:class:lgtin:0614141.107346.L1", "quantity": 1.0 + i, "uom": "KGM"}],
            "ex:weight": {"value": 2, "unit": "g"}, **extra}


@pytest.mark.parametrize("case", ["context after the body", "query document", "array of events",
                                  "bad events in the middle", "unknown event type", "event list twice",
                                  "broken JSON", "not a document", "no events"])
def test_stream_edge_cases_match_the_whole_document(tmp_path: Path, case: str) -> None:
    p = tmp_path / "doc.jsonld"
    events = [_event(i) for i in range(5)]
    text = {
        "context after the body": lambda: _doc_text(events, context_last=True),
        "query document": lambda: _doc_text(events, doc_type="EPCISQueryDocument"),
        "array of events": lambda: json.dumps([{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/"
                                                             "epcis-context.jsonld", {"ex": "https://e.x/"}], **e}
                                               for e in events]),
        "bad events in the middle": lambda: _doc_text(events[:2] + [_event(7, action="JUMP"),
                                                                    {**_event(8), "eventTime": "yesterday"}]
                                                      + events[2:]),
        "unknown event type": lambda: _doc_text(events + [{**_event(9), "type": "QuantityEvent"}]),
        "event list twice": lambda: _doc_text(events).replace('"eventList": [', '"eventList": [], "eventList": [', 1),
        "broken JSON": lambda: _doc_text(events)[:-40],
        "not a document": lambda: json.dumps({"type": "Something", "epcisBody": {"eventList": events}}),
        "no events": lambda: _doc_text([]),
    }[case]()
    p.write_text(text)
    old = _whole(p)
    new, stream = _streamed(p)
    assert _same(old, new), (old, new)
    if case in ("context after the body", "query document", "array of events"):
        assert stream.streamed and new[0] == "ok" and len(new[2]) == 5
        assert {"ex": "https://e.x/"} in new[1]["@context"] or {"ex": "https://example.com/ns/"} in new[1]["@context"]
    if case == "bad events in the middle":
        assert stream.streamed and new[0] == "refused"
        assert {r[0] for r in new[2]} >= {"event 2", "event 3"}


def test_is_epcis_file_reads_a_stream(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonld"
    p.write_text(_doc_text([_event(1)], context_last=True))
    assert is_epcis_file(p)
    p.write_text(json.dumps([_event(1), _event(2)]))
    assert is_epcis_file(p)
    p.write_text(json.dumps([_event(1), {"type": "Nope"}]))
    assert not is_epcis_file(p)
    p.write_text('{"type": "Something"}')
    assert not is_epcis_file(p)
    p.write_text("{not json")
    assert not is_epcis_file(p)
    assert set(EVENT_TYPES) >= {"ObjectEvent"}


# ---------------------------------------------------------------------------------------
# memory does not grow with the document
# ---------------------------------------------------------------------------------------


def _documents(folder: Path, mb: float) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from perf.bench_epcis_stream import write_documents

    return write_documents(folder, mb, epcs=32, group=20)


def test_json_stream_memory_does_not_grow_with_the_document(tmp_path: Path) -> None:
    docs, peaks = [], []
    for mb in (0.15, 0.6):
        folder = tmp_path / f"d{mb}"
        folder.mkdir()
        d = _documents(folder, mb)["json"]
        next(iter(open_events(d["path"])))  # warm: validator compiled, modules imported
        tracemalloc.start()
        n = sum(1 for _ in open_events(d["path"]))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert n == d["events"]
        docs.append(d)
    assert docs[1]["bytes"] > 3 * docs[0]["bytes"]
    # 4x the document, about the same peak (one event, the shell, the parser's buffers)
    assert peaks[1] < 1.2 * peaks[0] + 100_000, peaks
    tracemalloc.start()
    doc = read_document(docs[1]["path"])  # the whole load of the same document, for scale
    whole = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(doc["epcisBody"]["eventList"]) == docs[1]["events"]
    assert whole > 3 * peaks[1], (whole, peaks)


def test_xml_stream_holds_one_event_at_a_time(tmp_path: Path) -> None:
    """libxml2's tree is not seen by tracemalloc: the tree itself is looked at. While events are
    read, the document being parsed keeps its skeleton and what the parser read ahead (no event
    read stays in it), and the
    Python side (converted events, problems) does not grow with the document."""
    from tracegraph.loaders.epcis_xml import XmlEventStream

    peaks, sizes = [], []
    for mb in (0.2, 0.8):
        folder = tmp_path / f"d{mb}"
        folder.mkdir()
        d = _documents(folder, mb)["xml"]
        stream = XmlEventStream(d["path"])
        largest, n = 0, 0
        tracemalloc.start()
        for _ in stream:
            n += 1
            assert stream.root is not None
            largest = max(largest, sum(1 for _ in stream.root.iter()))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert n == d["events"]
        sizes.append(largest)
    from lxml import etree

    total = sum(1 for _ in etree.parse(d["path"]).iter())
    # the skeleton and what the parser has read ahead (a buffer's worth), not the document
    assert sizes[1] < 1.2 * sizes[0] + 50 and sizes[1] < total / 20, (sizes, total)
    assert peaks[1] < 1.2 * peaks[0] + 100_000, peaks


def test_one_event_check_answers_as_the_event_in_a_document() -> None:
    """`fast_event_ok` calls the schema's compiled event-list item check on the event alone: for
    every event (and non-event item) of the corpus, valid or not, the same answer as the whole
    compiled schema on a valid document holding only that item."""
    from tracegraph.loaders.epcis_doc import _MINI_SHELL, _compiled, fast_event_ok, fast_ok

    assert _compiled()[1] is not None  # the direct check is in use, not the fallback
    seen = {True: 0, False: 0}
    for p in _files():
        if p.suffix != ".json" and p.suffix != ".jsonld":
            continue
        try:
            doc = json.loads(p.read_text(encoding="utf-8-sig"))
        except ValueError:
            continue
        body = doc.get("epcisBody") if isinstance(doc, dict) else None
        items = body.get("eventList") if isinstance(body, dict) else None
        for e in items if isinstance(items, list) else []:
            ok = fast_event_ok(e)
            assert ok == fast_ok({**_MINI_SHELL, "epcisBody": {"eventList": [e]}}), (str(p), e)
            seen[ok] += 1
    for e in (1, "x", None, [], {}, {"type": "ObjectEvent"}, _event(1, action="ADDX"), _event(2)):
        assert fast_event_ok(e) == fast_ok({**_MINI_SHELL, "epcisBody": {"eventList": [e]}})
    assert seen[True] > 100 and seen[False] > 20, seen
