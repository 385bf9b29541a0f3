"""The GS1 EPCIS 2.0 REST binding under /epcis, against the real app and the real embedded
database: capture jobs (202 + Location, rollback and proceed), one-event capture, the
SimpleEventQuery parameters, paging, the top-level resources, discovery headers, content
negotiation and permissions (a capture-only machine role).

The documents are GS1's own examples (shared/standards/epcis/examples) and events written here by
hand from the standard.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import quote

import pytest

from api_support import Api, make_api, make_users
from conftest import SHARED
from tracegraph.engine.access.actor import Actor
from tracegraph.engine.audit.chain import head
from tracegraph.engine.clock import FrozenClock as FixedClock
from tracegraph.loaders import epcis_subscriptions as subs

EXAMPLES = SHARED / "standards" / "epcis" / "examples"
CTX = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _event(n: int, *, biz_step: str = "shipping", when: str = "2026-03-0{d}T10:00:00+08:00") -> dict[str, Any]:
    """A hand-written ObjectEvent: unit n shipped (or another business step) from our site."""
    return {
        "type": "ObjectEvent", "eventID": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "eventTime": when.format(d=1 + n % 9), "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
        "epcList": [f"urn:epc:id:sgtin:0614141.107346.{9000 + n}"], "bizStep": biz_step,
        "disposition": "in_transit", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
        "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"},
    }


def _doc(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-03-10T00:00:00Z", "epcisBody": {"eventList": events}}


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("epcis-rest"))


def _capture(api: Api, body: Any, role: str = "capture_device", **headers: str) -> dict[str, Any]:
    r = api.client.post("/epcis/capture", content=json.dumps(body),
                        headers={**api.headers(role), "Content-Type": "application/ld+json", **headers})
    assert r.status_code == 202, r.text
    assert r.headers["GS1-EPCIS-Version"] == "2.0.0"
    loc = r.headers["Location"]
    assert loc.startswith("/epcis/capture/")
    job = api.client.get(loc, headers=api.headers(role))
    assert job.status_code == 200, job.text
    return job.json()


def test_capture_a_gs1_document_then_query_it_back(api: Api) -> None:
    doc = _example("Example_9.6.1-ObjectEvent.jsonld")
    job = _capture(api, doc)
    assert job["running"] is False and job["success"] is True and job["capturedEvents"] == 2, job
    assert job["captureErrorBehaviour"] == "rollback"
    r = api.client.get("/epcis/events", params={"EQ_bizStep": "shipping", "MATCH_epc": "urn:epc:id:sgtin:0614141.107346.2017"},
                       headers=api.headers("viewer"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    got = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    want = doc["epcisBody"]["eventList"][0]
    assert [e["eventID"] for e in got] == [want["eventID"]]
    assert got[0]["epcList"] == want["epcList"] and got[0]["bizStep"] == want["bizStep"]
    # the same step written as a CBV web URI and as a URN finds the same event
    for form in ("https://ref.gs1.org/cbv/BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping"):
        r2 = api.client.get("/epcis/events", params={"EQ_bizStep": form, "eventType": "ObjectEvent"},
                            headers=api.headers("viewer"))
        ids = [e["eventID"] for e in r2.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        assert want["eventID"] in ids, form
    one = api.client.get(f"/epcis/events/{quote(want['eventID'], safe='')}", headers=api.headers("viewer"))
    assert one.status_code == 200 and one.json()["eventID"] == want["eventID"]


def test_rollback_capture_with_one_bad_event_changes_nothing(api: Api) -> None:
    good = [_event(101), _event(102)]
    bad = copy.deepcopy(_event(103))
    bad["eventTime"] = "not a time"
    before = head(api.store)["seq"]
    job = _capture(api, _doc([good[0], bad, good[1]]))
    assert job["success"] is False and job["capturedEvents"] == 0 and job["errors"], job
    r = api.client.get("/epcis/events", params={"MATCH_epc": "urn:epc:id:sgtin:0614141.107346.9101"},
                       headers=api.headers("viewer"))
    assert r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []
    # only the job's own two audited entries (created, finished) were written
    assert head(api.store)["seq"] == before + 2


def test_proceed_capture_stores_the_good_events_and_names_the_bad_one(api: Api) -> None:
    good = [_event(201), _event(202)]
    bad = copy.deepcopy(_event(203))
    bad["action"] = "SOMETIMES"
    job = _capture(api, _doc([good[0], bad, good[1]]), **{"GS1-Capture-Error-Behaviour": "proceed"})
    assert job["success"] is False and job["capturedEvents"] == 2, job
    assert {e["eventIndex"] for e in job["errors"]} == {1}
    for n in (201, 202):
        r = api.client.get("/epcis/events", params={"MATCH_epc": f"urn:epc:id:sgtin:0614141.107346.{9000 + n}"},
                           headers=api.headers("viewer"))
        assert len(r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1, n


def test_one_event_capture_answers_201_with_its_location(api: Api) -> None:
    ev = {**_event(301), "@context": CTX}
    r = api.client.post("/epcis/events", content=json.dumps(ev),
                        headers={**api.headers("capture_device"), "Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    loc = r.headers["Location"]
    assert loc == "/epcis/events/" + quote(ev["eventID"], safe="")
    assert api.client.get(loc, headers=api.headers("viewer")).json()["eventID"] == ev["eventID"]


def test_a_bare_event_and_an_event_array_are_captured(api: Api) -> None:
    job = _capture(api, {**_event(401), "@context": CTX})
    assert job["success"] and job["capturedEvents"] == 1
    job = _capture(api, [{**_event(402), "@context": CTX}, {**_event(403), "@context": CTX}])
    assert job["success"] and job["capturedEvents"] == 2


def test_paging_walks_every_event_once_with_link_headers(api: Api) -> None:
    _capture(api, _doc([_event(500 + i, biz_step="packing") for i in range(7)]))
    seen: list[str] = []
    url: str | None = "/epcis/events?EQ_bizStep=packing&perPage=3"
    pages = 0
    while url:
        r = api.client.get(url, headers=api.headers("viewer"))
        assert r.status_code == 200, r.text
        seen += [e["eventID"] for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        link = r.headers.get("Link")
        url = link[1:link.index(">")] if link else None
        pages += 1
    assert pages == 3 and len(seen) == 7 and len(set(seen)) == 7
    desc = api.client.get("/epcis/events", params={"EQ_bizStep": "packing", "orderDirection": "DESC"},
                          headers=api.headers("viewer")).json()
    assert [e["eventID"] for e in desc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == seen[::-1]


def test_time_window_and_epc_pattern(api: Api) -> None:
    _capture(api, _doc([_event(601, biz_step="receiving", when="2026-05-02T10:00:00+08:00"),
                        _event(602, biz_step="receiving", when="2026-05-04T10:00:00+08:00")]))
    r = api.client.get("/epcis/events", params={"EQ_bizStep": "receiving", "GE_eventTime": "2026-05-04T00:00:00Z",
                                                "LT_eventTime": "2026-05-05T00:00:00Z"}, headers=api.headers("viewer"))
    got = [e["epcList"][0] for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
    assert got == ["urn:epc:id:sgtin:0614141.107346.9602"]  # 10:00+08:00 on May 4th is 02:00Z
    r = api.client.get("/epcis/events", params={"MATCH_anyEPC": "urn:epc:idpat:sgtin:0614141.107346.96*",
                                                "EQ_bizStep": "receiving"}, headers=api.headers("viewer"))
    assert len(r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2


@pytest.mark.parametrize(("params", "field"), [
    ({"GE_eventTime": "yesterday"}, "GE_eventTime"),
    ({"GE_eventTime": "2026-03-01T00:00:00"}, "GE_eventTime"),  # no time zone
    ({"eventType": "FooEvent"}, "eventType"),
    ({"perPage": "0"}, "perPage"),
    ({"EQ_source_owning_party": "urn:epc:id:pgln:0614141.00001"}, "EQ_source_owning_party"),
    ({"EQ_ILMD_bestBeforeDate": "2026-01-01"}, "EQ_ILMD_bestBeforeDate"),
    ({"nextPageToken": "forged"}, "nextPageToken"),
])
def test_a_query_that_is_not_understood_is_refused_not_answered_empty(api: Api, params: dict[str, str],
                                                                       field: str) -> None:
    r = api.client.get("/epcis/events", params=params, headers=api.headers("viewer"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["problems"][0]["field"] == field and err.get("hint")


def test_top_level_resources_and_their_events(api: Api) -> None:
    _capture(api, _example("Example_9.6.3-AggregationEvent.jsonld"))
    types = api.client.get("/epcis/eventTypes", headers=api.headers("viewer")).json()
    assert types["type"] == "Collection" and "ObjectEvent" in types["member"] and "AggregationEvent" in types["member"]
    steps = api.client.get("/epcis/bizSteps", headers=api.headers("viewer")).json()["member"]
    assert "shipping" in steps
    r = api.client.get("/epcis/eventTypes/AggregationEvent/events", headers=api.headers("viewer"))
    evs = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert evs and all(e["type"] == "AggregationEvent" for e in evs)
    rp = api.client.get("/epcis/readPoints", headers=api.headers("viewer")).json()["member"]
    assert "urn:epc:id:sgln:0614141.00777.0" in rp
    r = api.client.get(f"/epcis/readPoints/{quote('urn:epc:id:sgln:0614141.00777.0', safe='')}/events",
                       headers=api.headers("viewer"))
    assert all(e["readPoint"]["id"] == "urn:epc:id:sgln:0614141.00777.0"
               for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
    epc = "urn:epc:id:sgtin:0614141.107346.2017"
    r = api.client.get(f"/epcis/epcs/{quote(epc, safe='')}/events", headers=api.headers("viewer"))
    assert any(epc in (e.get("epcList") or []) for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def test_discovery_negotiation_and_limits(api: Api) -> None:
    r = api.client.options("/epcis/capture", headers=api.headers("capture_device"))
    assert r.status_code == 204
    assert "POST" in r.headers["Allow"] and int(r.headers["GS1-EPCIS-Capture-Limit"]) > 0
    assert int(r.headers["GS1-EPCIS-Capture-File-Size-Limit"]) > 0
    assert "proceed" in r.headers["GS1-Capture-Error-Behaviour"]
    assert api.client.options("/epcis/events", headers=api.headers("viewer")).headers["GS1-CBV-Version"] == "2.0.0"
    r = api.client.get("/epcis/events", headers={**api.headers("viewer"), "Accept": "text/csv"})
    assert r.status_code == 406
    r = api.client.post("/epcis/capture", content=json.dumps(_doc([_event(701)])),
                        headers={**api.headers("capture_device"), "GS1-EPCIS-Version": "1.2"})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "GS1-EPCIS-Version"
    r = api.client.post("/epcis/capture", content=json.dumps(_doc([])), headers=api.headers("capture_device"))
    assert r.status_code == 422


def test_a_capture_device_can_capture_and_nothing_else(api: Api) -> None:
    dev = api.headers("capture_device")
    assert api.client.get("/epcis/events", headers=dev).status_code == 403
    assert api.client.get("/impact", params={"lot": "L1"}, headers=dev).status_code == 403
    assert api.client.post("/epcis/capture", content=json.dumps(_doc([_event(801)])),
                           headers=api.headers("viewer")).status_code == 403
    assert api.client.get("/epcis/events").status_code == 401


def test_capture_jobs_are_listed_and_audited(api: Api) -> None:
    job = _capture(api, _doc([_event(901)]))
    jobs = api.client.get("/epcis/capture", headers=api.headers("capture_device")).json()
    assert job["captureID"] in [j["captureID"] for j in jobs]
    from tracegraph.engine.audit.chain import history

    entries = history(api.store, target=job["captureID"], limit=10)
    assert {e.action for e in entries} >= {"epcis.capture.start", "epcis.capture.finish"}
    assert all(e.actor == "u-capture-device" for e in entries)


# -- named queries and webhook subscriptions -------------------------------------------------------




class Receiver:
    """A real webhook receiver on loopback: records every POST; `fail` makes it answer 500."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail:
                    self.send_response(500)
                else:
                    outer.got.append(({k: v for k, v in self.headers.items()}, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def hook_api(store: Any, tmp_path_factory: pytest.TempPathFactory, api: Api) -> Api:
    # the same graph and users as `api`, with webhooks to loopback allowed and no background sender
    return make_api(store, tmp_path_factory.mktemp("epcis-hooks"), webhook_allowed_hosts=["127.0.0.1"],
                    epcis_deliverer_s=0)


SYSTEM = Actor.system("test deliverer")


def _subscribe(api: Api, name: str, query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    r = api.client.post("/epcis/queries", json={"name": name, "query": query}, headers=api.headers("viewer"))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/epcis/queries/{name}"
    r = api.client.post(f"/epcis/queries/{name}/subscriptions", json=body, headers=api.headers("viewer"))
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(r.json()["subscriptionID"])
    return r.json()


def test_a_streaming_subscription_gets_each_matching_capture_once_signed_after_a_restart(
        hook_api: Api, receiver: Receiver) -> None:
    token = "s3cret-token-for-hmac"
    sub = _subscribe(hook_api, "Shipped9", {"eventType": ["ObjectEvent"], "EQ_bizStep": ["dispensing"]},
                     {"dest": receiver.url, "signatureToken": token, "stream": True})
    assert "signatureToken" not in sub and sub["signed"] is True
    listed = hook_api.client.get("/epcis/queries/Shipped9/subscriptions", headers=hook_api.headers("viewer")).json()
    assert token not in json.dumps(listed)
    # one capture: two matching events and one that does not match the query
    job = _capture(hook_api, _doc([_event(1001, biz_step="dispensing"), _event(1002, biz_step="packing"),
                                   _event(1003, biz_step="dispensing")]))
    assert job["success"], job
    assert receiver.got == []  # queued in the outbox, nothing sent yet
    # "restart": a new deliverer that knows nothing but what is in the graph
    out = subs.deliver_due(hook_api.store, SYSTEM)
    assert out == {"delivered": 1, "retried": 0, "failed": 0}
    assert subs.deliver_due(hook_api.store, SYSTEM) == {"delivered": 0, "retried": 0, "failed": 0}
    assert len(receiver.got) == 1
    headers, body = receiver.got[0]
    assert headers["GS1-Signature"] == hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    doc = json.loads(body)
    assert doc["type"] == "EPCISQueryDocument"
    assert doc["epcisBody"]["queryResults"]["subscriptionID"] == sub["subscriptionID"]
    got = sorted(e["epcList"][0] for e in doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
    assert got == ["urn:epc:id:sgtin:0614141.107346.10001", "urn:epc:id:sgtin:0614141.107346.10003"]
    r = hook_api.client.get(f"/epcis/queries/Shipped9/subscriptions/{sub['subscriptionID']}",
                            headers=hook_api.headers("viewer")).json()
    assert [d["status"] for d in r["deliveries"]] == ["delivered"]


def test_a_failing_receiver_is_retried_with_back_off_then_served(hook_api: Api, receiver: Receiver) -> None:
    _subscribe(hook_api, "Dispensed2", {"EQ_bizStep": "destroying"}, {"dest": receiver.url, "stream": True})
    _capture(hook_api, _doc([_event(1101, biz_step="destroying")]))
    receiver.fail = True
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    assert subs.deliver_due(hook_api.store, SYSTEM, clock=FixedClock(t0))["retried"] == 1
    # not due again at once: the next attempt waits (2 s after the first failure)
    assert subs.deliver_due(hook_api.store, SYSTEM, clock=FixedClock(t0))["retried"] == 0
    assert subs.deliver_due(hook_api.store, SYSTEM, clock=FixedClock(t0 + timedelta(seconds=3)))["retried"] == 1
    receiver.fail = False
    assert subs.deliver_due(hook_api.store, SYSTEM, clock=FixedClock(t0 + timedelta(seconds=4)))["delivered"] == 0
    assert subs.deliver_due(hook_api.store, SYSTEM, clock=FixedClock(t0 + timedelta(seconds=10)))["delivered"] == 1
    assert len(receiver.got) == 1


def test_a_scheduled_subscription_reports_what_was_recorded_since_its_last_run(hook_api: Api,
                                                                               receiver: Receiver) -> None:
    _subscribe(hook_api, "Nightly", {"EQ_bizStep": "repairing"},
               {"dest": receiver.url, "schedule": {"hour": "1", "minute": "5"}, "reportIfEmpty": True,
                "initialRecordTime": "2020-01-01T00:00:00Z"})
    _capture(hook_api, _doc([_event(1201, biz_step="repairing"), _event(1202, biz_step="repairing")]))
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=1, minute=5, second=0, microsecond=0)
    assert subs.run_schedules(hook_api.store, SYSTEM, tomorrow.replace(minute=6)) == []  # not due at 01:06
    assert len(subs.run_schedules(hook_api.store, SYSTEM, tomorrow)) == 1
    assert subs.run_schedules(hook_api.store, SYSTEM, tomorrow) == []  # ran at this instant already
    subs.deliver_due(hook_api.store, SYSTEM, clock=FixedClock(tomorrow))
    doc = json.loads(receiver.got[-1][1])
    assert len(doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    # the next night: nothing new, but reportIfEmpty still reports (an empty list)
    assert len(subs.run_schedules(hook_api.store, SYSTEM, tomorrow + timedelta(days=1))) == 1
    subs.deliver_due(hook_api.store, SYSTEM, clock=FixedClock(tomorrow + timedelta(days=1)))
    assert json.loads(receiver.got[-1][1])["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []


def test_the_server_thread_delivers_without_being_asked(hook_api: Api, receiver: Receiver) -> None:
    _subscribe(hook_api, "Threaded", {"EQ_bizStep": "inspecting"}, {"dest": receiver.url, "stream": True})
    _capture(hook_api, _doc([_event(1301, biz_step="inspecting")]))
    d = subs.Deliverer(hook_api.store, interval_s=0.05)
    d.start()
    try:
        deadline = time.monotonic() + 20
        while not receiver.got and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        d.stop()
    assert len(receiver.got) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"dest": "http://127.0.0.1:9/x"}, "stream"),  # neither stream nor schedule
    ({"dest": "http://127.0.0.1:9/x", "stream": True, "schedule": {"hour": "1"}}, "stream"),
    ({"dest": "ftp://127.0.0.1/x", "stream": True}, "dest"),
    ({"dest": "http://example.org/x", "stream": True}, "dest"),  # not an allowed host
    ({"dest": "http://127.0.0.1:9/x", "schedule": {"hour": "25"}}, "schedule.hour"),
])
def test_bad_subscriptions_are_refused_by_field(hook_api: Api, body: dict[str, Any], field: str) -> None:
    hook_api.client.post("/epcis/queries", json={"name": "Refusals", "query": {}}, headers=hook_api.headers("viewer"))
    r = hook_api.client.post("/epcis/queries/Refusals/subscriptions", json=body, headers=hook_api.headers("viewer"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["problems"][0]["field"] == field


def test_named_query_lifecycle(hook_api: Api) -> None:
    h = hook_api.headers("viewer")
    assert hook_api.client.post("/epcis/queries", json={"name": "bad name!", "query": {}}, headers=h).status_code == 422
    assert hook_api.client.post("/epcis/queries", json={"name": "Q1", "query": {"EQ_nonsense": "x"}},
                                headers=h).status_code == 422
    assert hook_api.client.post("/epcis/queries", json={"name": "Q1", "query": {"EQ_bizStep": "packing"}},
                                headers=h).status_code == 201
    assert hook_api.client.post("/epcis/queries", json={"name": "Q1", "query": {}}, headers=h).status_code == 409
    r = hook_api.client.get("/epcis/queries/Q1/events", params={"perPage": 2}, headers=h)
    assert r.status_code == 200 and all(e["bizStep"] == "packing"
                                        for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
    assert "Link" in r.headers  # 7 packing events from the paging test, 2 per page
    assert hook_api.client.delete("/epcis/queries/Q1", headers=h).status_code == 204
    assert hook_api.client.get("/epcis/queries/Q1", headers=h).status_code == 404


def test_verify_still_passes_after_captures_and_deliveries(api: Api) -> None:
    from tracegraph.engine.audit.verify import verify

    report = verify(api.store)
    assert report.ok, report


def test_capture_takes_epcis_xml_and_refuses_xml_that_fails_the_xsd(api: Api) -> None:
    """A packaging line that speaks EPCIS 2.0 XML captures through the same door (GS1's example)."""
    xml = (SHARED / "standards" / "epcis" / "xml-examples" / "2.0" / "Example_9.6.1-ObjectEvent-2020_06_18a.xml").read_bytes()
    r = api.client.post("/epcis/capture", content=xml,
                        headers={**api.headers("capture_device"), "Content-Type": "application/xml"})
    assert r.status_code == 202, r.text
    job = api.client.get(r.headers["Location"], headers=api.headers("capture_device")).json()
    assert job["success"] and job["capturedEvents"] >= 1, job
    bad = xml.replace(b"<eventTime>", b"<eventTimeX>", 1).replace(b"</eventTime>", b"</eventTimeX>", 1)
    r = api.client.post("/epcis/capture", content=bad,
                        headers={**api.headers("capture_device"), "Content-Type": "application/xml"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["problems"]  # itemised: line, element, what was expected
