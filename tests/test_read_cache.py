"""The read cache (doors/read_cache.py, api/read_cache.py) on the real app and the embedded store:
repeated reads are answered from it, a write makes every earlier answer unreachable, a caller whose
roles may not read is refused however often others asked, and clock-dependent or writing GraphQL
documents are never cached."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from api_support import Api, make_api, make_users
from graphql import GraphQLInterfaceType, GraphQLObjectType, get_named_type
from plantbuilder import demo_plant
from tracegraph.api.read_cache import HeadReads
from tracegraph.doors.read_cache import head_version
from tracegraph.graphql.read_cache import CACHEABLE_ROOTS, REVIEWED_RESOLVERS, cacheable

BOARD = '{ qualityRecords(types: ["complaint"], first: 20) { totalCount edges { node { id status } } } }'
CHECKLIST = 'query($k: String!) { releaseChecklist(batch: $k) { batch releasable conditions { name ok } } }'
IMPACT = 'query($lot: String!) { impact(cause: {lots: [$lot]}) { counts byStatus } }'
OPEN = """mutation($fields: JSON!) { openQualityRecord(type: "complaint", fields: $fields, reason: "call") { id } }"""
COMPLAINT = {"reporter": "City Hospital", "event_date": "2026-03-01", "description": "cracked housing",
             "patient_involved": False}


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    demo_plant().write(store)
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("read-cache"), raise_server_exceptions=False)


def _cache(api: Api) -> Any:
    return api.client.app.state.read_cache  # type: ignore[attr-defined]


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def test_a_repeated_read_is_answered_from_the_cache_and_a_write_invalidates_it(api: Api) -> None:
    first = api.gql(BOARD, role="viewer")
    hits = _cache(api).hits
    again = api.gql(BOARD, role="viewer")
    assert again == first and _cache(api).hits == hits + 1
    rest = api.client.get("/qms/complaint?limit=20", headers=api.headers("viewer"))
    assert api.client.get("/qms/complaint?limit=20", headers=api.headers("viewer")).json() == rest.json()
    n = first["data"]["qualityRecords"]["totalCount"]

    opened = api.gql(OPEN, role="complaint_handler", fields=COMPLAINT)  # an audited write: the head moves
    new_id = opened["data"]["openQualityRecord"]["id"]
    after = api.gql(BOARD, role="viewer")["data"]["qualityRecords"]
    assert after["totalCount"] == n + 1 and new_id in [e["node"]["id"] for e in after["edges"]]
    rest_after = api.client.get("/qms/complaint?limit=20", headers=api.headers("viewer"))
    assert rest_after.status_code == 200 and new_id in [r["id"] for r in rest_after.json()]


def test_a_caller_without_permission_is_refused_even_when_the_answer_is_cached(api: Api) -> None:
    for _ in range(2):  # the second answer comes from the cache
        ok = api.gql(CHECKLIST, role="viewer", k="FIN1")
        assert ok["data"]["releaseChecklist"]["batch"] == "FIN1"
        assert api.gql(IMPACT, role="viewer", lot="L1")["data"]["impact"]["counts"]
        assert api.client.get("/qms/checklist/FIN1", headers=api.headers("viewer")).status_code == 200
    hits = _cache(api).hits
    refused = api.gql(CHECKLIST, role="capture_device", k="FIN1")
    assert refused["data"] is None and _codes(refused) == ["permission_denied"]
    assert _codes(api.gql(IMPACT, role="capture_device", lot="L1")) == ["permission_denied"]
    assert api.client.get("/qms/checklist/FIN1", headers=api.headers("capture_device")).status_code == 403
    assert _codes(api.gql(CHECKLIST, role=None, k="FIN1")) == ["authentication_failed"]
    assert api.client.get("/qms/checklist/FIN1").status_code == 401
    bad = api.client.get("/qms/checklist/FIN1", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert _cache(api).hits == hits  # none of them was answered from the cache


def test_a_logged_out_token_is_refused_although_its_answer_was_cached(api: Api) -> None:
    token = api.login("u-viewer")
    h = {"Authorization": f"Bearer {token}"}
    for _ in range(2):
        assert api.client.get("/qms/checklist/FIN1", headers=h).status_code == 200
    assert api.client.post("/auth/logout", headers=h).status_code in (200, 204)
    assert api.client.get("/qms/checklist/FIN1", headers=h).status_code == 401


def test_clock_fields_writes_and_introspection_are_never_cached() -> None:
    assert cacheable(BOARD, None) and cacheable(CHECKLIST, None) and cacheable(IMPACT, None)
    assert not cacheable("{ recalls { edges { node { id deadlines { state } } } } }", None)
    assert not cacheable("query { recall(id: \"R\") { ...F } } fragment F on Recall { deadlines { due } }", None)
    assert not cacheable(OPEN, None)
    assert not cacheable("{ __schema { types { name } } }", None)
    assert not cacheable("{ me { id } }", None)  # who asks: not a listed root
    assert not cacheable("{ impact(cause: {lots: [\"L1\"]}) { counts } me { id } }", None)
    assert not cacheable("query A { recalls { totalCount } } query B { recalls { totalCount } }", "A")
    assert not cacheable("{ recalls(", None)


def test_every_resolver_reachable_from_a_cacheable_root_was_reviewed() -> None:
    """A new resolver under a cacheable root may depend on the clock or on who asks: whoever adds
    one decides (graphql/read_cache.py CLOCK_FIELDS or REVIEWED_RESOLVERS)."""
    from tracegraph.graphql.schema import build_schema
    from tracegraph.graphql.types_quality import TYPE_NAMES

    s = build_schema()
    gs = s._schema
    todo = [get_named_type(gs.query_type.fields[r].type) for r in CACHEABLE_ROOTS]
    seen: set[str] = set()
    found: set[str] = set()
    while todo:
        t = todo.pop()
        if t.name in seen or not isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
            continue
        seen.add(t.name)
        if isinstance(t, GraphQLInterfaceType):
            todo += list(gs.get_possible_types(t))
        for f in getattr(s.get_type_by_name(t.name), "fields", []):
            if f.base_resolver is not None:
                owner = "QualityRecord" if t.name in TYPE_NAMES else t.name
                found.add(f"{owner}.{s.config.name_converter.get_graphql_name(f)}")
        todo += [get_named_type(f.type) for f in t.fields.values()]
    assert found - REVIEWED_RESOLVERS == set()


def test_a_control_character_in_a_literal_is_refused_every_time(api: Api) -> None:
    """The literal check remembers each document's verdict (graphql/input_guard.py): the second ask
    is refused as the first, and a refusal is never cached as an answer."""
    doc = '{ releaseChecklist(batch: "FIN1\\u0001") { batch } }'
    for _ in range(2):
        body = api.gql(doc, role="viewer")
        assert body["data"] is None and _codes(body) == ["validation_failed"]
        assert "control character" in body["errors"][0]["message"]
    assert api.gql('{ releaseChecklist(batch: "FIN1") { batch } }', role="viewer")["data"]


def test_head_reads_are_shared_but_never_older_than_the_request(api: Api) -> None:
    """Requests waiting together share one head read, but one that arrives while a read is in
    flight (begun before it: it may have missed a write that just finished) waits for the next."""
    store = api.client.app.state.store  # type: ignore[attr-defined]
    gate = threading.Event()
    seen: list[Any] = []

    def read(s: Any) -> Any:
        v = head_version(s)
        seen.append(v)
        if len(seen) == 1:
            gate.wait(10)  # the first read has read the head and is held in flight
        return v

    heads = HeadReads(read)

    async def run() -> tuple[Any, Any, Any]:
        a = asyncio.ensure_future(heads.version(store))
        while not seen:
            await asyncio.sleep(0.01)
        # an audited write lands after the first read has read the head, before b and c arrive
        opened = await asyncio.to_thread(api.gql, OPEN, role="complaint_handler", fields=COMPLAINT)
        assert opened["data"]["openQualityRecord"]["id"]
        b = asyncio.ensure_future(heads.version(store))
        c = asyncio.ensure_future(heads.version(store))
        await asyncio.sleep(0.05)
        gate.set()
        return await a, await b, await c

    va, vb, vc = asyncio.run(run())
    assert va[0] < vb[0] and vb == vc == head_version(store)
    assert heads.asks == 3 and heads.reads == 2  # b and c shared the read that began after them
