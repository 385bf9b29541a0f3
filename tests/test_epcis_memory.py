"""Issue 16, "memory stays bounded for a 1 GB document": what keeps a whole import and a REST
capture from holding the document.

- EventSpool (loaders/epcis_spool.py): the events past a threshold are held on disk as compact
  JSON and decoded a pass at a time; the values come back equal, and a document mapped from a
  spilled spool gives the graph the in-memory one gives.
- REST capture (loaders/epcis_body.py): the body is spooled to a file and read as a stream; it is
  understood as the whole-body reading understood it (shapes, @context, event counts, refusals);
  a capture past the spool's threshold is imported whole, and a broken one refused whole.

No timings or memory figures here (those are perf/bench_epcis_memory.py's).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest

from api_support import Api, make_api, make_users
from graph_snapshot import snapshot
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import TracegraphError
from tracegraph.engine.imports.runner import SourceFile
from tracegraph.loaders.epcis import load_stream, run_epcis
from tracegraph.loaders.epcis_body import read_body
from tracegraph.loaders.epcis_capture import events_of
from tracegraph.loaders.epcis_spool import HOLD_EVENTS, EventSpool, where
from tracegraph.loaders.epcis_stream import open_events
from tracegraph.loaders.generator import generate_bundle

ACTOR = Actor(id="u-qa", name="QA Importer", roles=frozenset({"qa"}))
CTX = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


# -- the spool -----------------------------------------------------------------------------


def test_the_spool_gives_back_the_events_it_was_given() -> None:
    events = [{"i": i, "t": f"2026-03-0{1 + i % 3}T00:00:00Z", "f": 0.1 * i, "big": 2**70 + i, "nan": math.inf,
               "text": "Zürich \u2013 \ud800", "nested": {"b": [1, {"c": None}], "a": True}} for i in range(7)]
    spool = EventSpool(hold=3)
    for e in events[:3]:
        spool.append(e)
    assert not spool.spilled and spool[0] is events[0]  # below the threshold: the same objects
    for e in events[3:]:
        spool.append(e)
    assert spool.spilled and len(spool) == 7
    assert list(spool) == events and spool[-1] == events[-1] and spool[2:4] == events[2:4]
    assert [list(e) for e in spool] == [list(e) for e in events]  # key order kept
    with pytest.raises(IndexError):
        spool[7]
    view = spool.take([5, 1])
    assert list(view) == [events[5], events[1]] and view[1] == events[1]
    assert [e["i"] for e in where(spool, lambda e: e["i"] % 2 == 0)] == [0, 2, 4, 6]
    assert [e["i"] for e in [{"i": -1}] + spool] == [-1, 0, 1, 2, 3, 4, 5, 6]
    # by time, ties in document order (the mapping's order)
    assert spool.time_order(lambda e: e["t"]) == [0, 3, 6, 1, 4, 2, 5]
    spool.close()
    with pytest.raises(ValueError):
        spool[0]


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generator's plant (batches, serials, shipments) and, after it, cases of units packed,
    shipped to a distributor and received there (so the import derives the cases' contents)."""
    out = tmp_path_factory.mktemp("epcis-spool-plant")
    doc = json.loads(Path(generate_bundle(out, serials=300, seed=5, fmt="epcis")["epcis"]["file"]).read_text())
    where_ = {"readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
              "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"}, "eventTimeZoneOffset": "+00:00"}
    for b in range(30):
        units = [f"urn:epc:id:sgtin:0614141.107346.8{b:03d}{i:02d}" for i in range(10)]
        case = f"urn:epc:id:sscc:0614141.{b:010d}"
        at = f"2026-07-{1 + b % 28:02d}T08:00:00Z"
        dest = [{"type": "owning_party", "destination": "urn:epc:id:pgln:0614142.00000"}]
        bt = [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:0614141000005:C{b}"}]
        doc["epcisBody"]["eventList"] += [
            {"type": "ObjectEvent", "eventTime": at, **where_, "epcList": units, "action": "ADD",
             "bizStep": "commissioning", "disposition": "active", "ilmd": {"cbvmda:lotNumber": f"C{b}"}},
            {"type": "AggregationEvent", "eventTime": at.replace("08:", "09:"), **where_, "parentID": case,
             "childEPCs": units, "action": "ADD", "bizStep": "packing"},
            {"type": "ObjectEvent", "eventTime": at.replace("08:", "10:"), **where_, "epcList": [case],
             "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit", "bizTransactionList": bt,
             "destinationList": dest},
            {"type": "ObjectEvent", "eventTime": at.replace("08:", "15:"), "eventTimeZoneOffset": "+00:00",
             "epcList": [case], "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress",
             "bizTransactionList": bt, "destinationList": dest}]
    path = out / "plant-and-cases.jsonld"
    path.write_text(json.dumps(doc))
    return path


def test_a_spilled_document_maps_and_imports_as_one_held_in_memory(fresh: Any, plant: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Also: the containment derivation reads its items' histories a few at a time (here 7 at a
    time in the spilled import) with the same result."""
    from tracegraph.engine.imports import containment

    store, empty_store = fresh(), fresh()
    held = load_stream(open_events(plant), plant.name, store, hold=10**9)
    spilled = load_stream(open_events(plant), plant.name, store, hold=0)
    assert dataclasses.asdict(held.mapped) == dataclasses.asdict(spilled.mapped)
    assert held.model_dump(exclude={"mapped"}) == spilled.model_dump(exclude={"mapped"})
    assert held.mapped.containers  # the plant packs: its import derives contents
    run_epcis(store, held, ACTOR, files=[SourceFile.of_path(plant)])
    monkeypatch.setattr(containment, "READ_KEYS", 7)
    run_epcis(empty_store, load_stream(open_events(plant), plant.name, empty_store, hold=0), ACTOR,
              files=[SourceFile.of_path(plant)])
    derived = "MATCH (:Serial)-[x:SHIPPED_IN]->(:Shipment) WHERE x.via IS NOT NULL RETURN count(x) AS c"
    assert store.run(derived)[0]["c"] == 300  # the cases' units: their shipments by way of the case
    assert snapshot(store) == snapshot(empty_store)
    # imported again from a spilled spool: every event known, nothing changes
    again = load_stream(open_events(plant), plant.name, empty_store, hold=0)
    assert again.known_events == held.events + held.known_events and again.events == 0


# -- REST capture bodies ---------------------------------------------------------------------


def _ev(n: int, **kw: Any) -> dict[str, Any]:
    return {"type": "ObjectEvent", "eventID": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            "eventTime": f"2026-03-01T10:{n // 60 % 60:02d}:{n % 60:02d}Z", "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE", "epcList": [f"urn:epc:id:sgtin:0614141.107346.{70000 + n}"],
            "bizStep": "inspecting", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}, **kw}


BODIES: dict[str, Any] = {
    "document": {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0",
                 "creationDate": "2026-03-10T00:00:00Z", "epcisBody": {"eventList": [_ev(1), _ev(2)]}},
    "type and @context after the body": {"epcisBody": {"eventList": [_ev(1)]}, "@context": [*CTX, {"ex": "https://e/"}],
                                         "type": "EPCISDocument"},
    "query document": {"@context": "https://x.example/ctx", "type": "EPCISQueryDocument",
                       "epcisBody": {"queryResults": {"resultsBody": {"eventList": [_ev(1), _ev(2), _ev(3)]}}}},
    "no @context": {"type": "EPCISDocument", "epcisBody": {"eventList": [_ev(1)]}},
    "array with own contexts": [{**_ev(1), "@context": CTX}, {**_ev(2), "@context": [*CTX, "https://y/"]}, _ev(3)],
    "bare event": {**_ev(1), "@context": CTX},
    "empty list": {"type": "EPCISDocument", "epcisBody": {"eventList": []}},
    "empty array": [],
    "array with a number": [_ev(1), 5],
    "list with a number": {"type": "EPCISDocument", "epcisBody": {"eventList": [_ev(1), 5]}},
    "unknown type": {"type": "Invoice"},
    "a string": "EPCIS",
}


def _whole(raw: bytes) -> Any:
    """What the capture routes answered from before: the body parsed whole, then events_of."""
    try:
        events, context = events_of(json.loads(raw))
    except TracegraphError as exc:
        return ("refused", exc.message)
    return (len(events), context, events)


def _streamed(path: Path) -> Any:
    try:
        body = read_body(path, "json")
    except TracegraphError as exc:
        return ("refused", exc.message)
    events = list(body.events())
    assert len(events) == body.count
    return (body.count, body.context, events)


@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_spooled_capture_body_reads_as_the_whole_body_did(tmp_path: Path, name: str) -> None:
    raw = json.dumps(BODIES[name]).encode()
    path = tmp_path / "capture"
    path.write_bytes(raw)
    assert _streamed(path) == _whole(raw)


def test_a_broken_capture_body_is_refused_as_before(tmp_path: Path) -> None:
    path = tmp_path / "capture"
    path.write_bytes(b'{"type": "EPCISDocument", "epcisBody": {"eventList": [{"a": 1},')
    with pytest.raises(TracegraphError, match="the body is not JSON"):
        read_body(path, "json")


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("epcis-memory"))


def _post(api: Api, body: Any) -> Any:
    return api.client.post("/epcis/capture", content=json.dumps(body),
                           headers={**api.headers("capture_device"), "Content-Type": "application/ld+json"})


def _job(api: Api, r: Any) -> dict[str, Any]:
    assert r.status_code == 202, r.text
    job = api.client.get(r.headers["Location"], headers=api.headers("capture_device"))
    assert job.status_code == 200, job.text
    out: dict[str, Any] = job.json()
    return out


def _stored(api: Api, n: int) -> int:
    r = api.client.get("/epcis/events", params={"MATCH_epc": f"urn:epc:id:sgtin:0614141.107346.{70000 + n}"},
                       headers=api.headers("viewer"))
    assert r.status_code == 200, r.text
    return len(r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def _doc(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-10T00:00:00Z",
            "epcisBody": {"eventList": events}}


def test_a_capture_past_the_spool_threshold_is_streamed_and_imported_whole(api: Api) -> None:
    n = HOLD_EVENTS + 50  # the import's events spill to disk
    job = _job(api, _post(api, _doc([_ev(i) for i in range(n)])))
    assert job["success"] is True and job["events"] == n and job["capturedEvents"] == n, job
    assert _stored(api, 0) == 1 and _stored(api, n - 1) == 1


def test_a_broken_capture_past_the_spool_threshold_is_refused_whole(api: Api) -> None:
    n = HOLD_EVENTS + 50
    events = [_ev(10_000 + i) for i in range(n)]
    events[-1]["eventTime"] = "not a time"  # the last event is bad: nothing before it may stay
    job = _job(api, _post(api, _doc(events)))
    assert job["success"] is False and job["capturedEvents"] == 0 and job["errors"], job
    assert _stored(api, 10_000) == 0 and _stored(api, 10_000 + n - 2) == 0


def test_a_capture_over_the_event_limit_is_refused_before_a_job(api: Api) -> None:
    from tracegraph.api.routes_epcis import CAPTURE_LIMIT

    before = api.client.get("/epcis/capture", headers=api.headers("capture_device")).json()
    r = _post(api, _doc([{}] * (CAPTURE_LIMIT + 1)))  # counted from the stream, never checked
    assert r.status_code == 413, r.text
    assert "GS1-EPCIS-Capture-Limit" in r.json()["error"]["hint"]
    assert api.client.get("/epcis/capture", headers=api.headers("capture_device")).json() == before
