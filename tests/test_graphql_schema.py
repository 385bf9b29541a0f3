"""GraphQL at the schema level against the real embedded store: pagination, filters, sorting,
DataLoader query counts, depth/alias/token limits, error masking, SDL freshness."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from typing import Any

import pytest

from plantbuilder import demo_plant
from tracegraph.engine.audit.chain import Actor
from tracegraph.graphql.dataloaders import Loaders
from tracegraph.graphql.schema import SDL_PATH, build_schema, sdl

VIEWER = Actor("viewer1", "Vera Viewer", frozenset({"viewer"}))


class CountingStore:
    """The REAL store, counting every query it is asked to run (by name)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.backend = inner.backend
        self.location = inner.location

    def read(self, name: str, /, **params: Any) -> list[dict[str, Any]]:
        self.calls[name] += 1
        return self.inner.read(name, **params)

    def write(self, name: str, /, **params: Any) -> list[dict[str, Any]]:
        self.calls[name] += 1
        return self.inner.write(name, **params)

    def run(self, cypher: str, params: dict[str, Any] | None = None, *, write: bool = True) -> list[dict[str, Any]]:
        self.calls["<literal>"] += 1
        return self.inner.run(cypher, params, write=write)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class Ctx:
    def __init__(self, store: Any, actor: Actor | None) -> None:
        self.store = store
        self.actor = actor
        self.loaders = Loaders(store)
        self.request_id = "test-request"


@pytest.fixture(scope="module")
def plant_store(store: Any) -> Any:
    p = demo_plant()
    # a bigger batch for pagination: 120 serials of BIG, each shipped, half to each hospital
    p.batch("BIG", product="P1", inputs=["L9"], started_at="2026-04-01T08:00:00.000000+00:00")
    ids = p.serials("BIG", 120, prefix="BIG-S")
    p.shipment("SHB1", "H1", "2026-04-05", "2026-04-06", serials=ids[:60])
    p.shipment("SHB2", "H2", "2026-04-05", None, serials=ids[60:])
    for i, sid in enumerate(ids):
        s = p.get("Serial", sid)
        s["status"] = "at_end_user" if i < 60 else "in_transit"
        s["customer_id"] = "H1" if i < 60 else "H2"
        s.pop("warehouse", None)
    p.write(store)
    return store


@pytest.fixture(scope="module")
def schema() -> Any:
    return build_schema()


def gql(schema: Any, store: Any, query: str, *, actor: Actor | None = VIEWER, **variables: Any) -> Any:
    return asyncio.run(schema.execute(query, variable_values=variables or None, context_value=Ctx(store, actor)))


def ok(result: Any) -> dict[str, Any]:
    assert result.errors is None, [e.message for e in result.errors]
    return result.data


# -- pagination ------------------------------------------------------------------------------


def test_cursor_pagination_walks_every_item_once(schema: Any, plant_store: Any) -> None:
    q = """query($after: String) { serials(first: 25, after: $after, filter: {batch: "BIG"}) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor } edges { cursor node { id } } } }"""
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = ok(gql(schema, plant_store, q, after=after))["serials"]
        assert data["totalCount"] == 120
        assert data["pageInfo"]["hasPreviousPage"] == (after is not None)
        seen += [e["node"]["id"] for e in data["edges"]]
        pages += 1
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
        assert after == data["edges"][-1]["cursor"]
    assert pages == 5
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 120


def test_first_zero_gives_count_only_and_bad_input_is_refused(schema: Any, plant_store: Any) -> None:
    d = ok(gql(schema, plant_store, '{ serials(first: 0, filter: {batch: "BIG"}) { totalCount edges { cursor } } }'))
    assert d["serials"] == {"totalCount": 120, "edges": []}
    r = gql(schema, plant_store, "{ serials(first: 100000) { totalCount } }")
    assert r.errors and r.errors[0].extensions["code"] == "validation_failed"
    r = gql(schema, plant_store, '{ serials(after: "not-a-cursor") { totalCount } }')
    assert r.errors and "invalid cursor" in r.errors[0].message


def test_filters_and_sorting(schema: Any, plant_store: Any) -> None:
    d = ok(gql(schema, plant_store, """{
        transit: serials(first: 500, filter: {status: "in_transit", customer: "H2"}) { totalCount }
        newest: batches(first: 2, sort: STARTED_AT, desc: true) { edges { node { id startedAt } } }
        oldest: batches(first: 2, sort: STARTED_AT) { edges { node { id } } }
        subs: batches(filter: {kind: "subassembly"}) { totalCount edges { node { id kind } } }
        s1lots: materialLots(filter: {supplier: "S1"}, sort: RECEIVED_AT, desc: true) { edges { node { id receivedAt } } }
        hospitals: customers(filter: {kind: "hospital"}, sort: NAME) { edges { node { name } } }
    }"""))
    assert d["transit"]["totalCount"] == 61  # 60 BIG units + FIN1-S0004
    assert [e["node"]["id"] for e in d["newest"]["edges"]] == ["BIG", "OTHER"] or d["newest"]["edges"][0]["node"]["id"] == "BIG"
    assert d["oldest"]["edges"][0]["node"]["id"] == "SUB1"
    assert d["subs"]["totalCount"] == 1 and d["subs"]["edges"][0]["node"]["kind"] == "subassembly"
    dates = [e["node"]["receivedAt"] for e in d["s1lots"]["edges"]]
    assert dates == sorted(dates, reverse=True) and {e["node"]["id"] for e in d["s1lots"]["edges"]} == {"L1", "L2"}
    assert [e["node"]["name"] for e in d["hospitals"]["edges"]] == ["City Clinic", "General Hospital"]


def test_relations_resolve(schema: Any, plant_store: Any) -> None:
    d = ok(gql(schema, plant_store, """{ serial(id: "FIN1-S0001") { status batch { id product { name } }
        customer { name } shipments { shipment { id } } components { serial { id } } }
        batch(id: "FIN1") { materialLots { lot { id supplier { id } } qty } inputBatches { batch { id } }
        usedIn { batch { id } } equipment { equipment { id } usedFrom } }
        missing: batch(id: "NOPE") { id } }"""))
    s = d["serial"]
    assert s["batch"]["id"] == "FIN1" and s["batch"]["product"]["name"] == "Product P1"
    assert s["customer"]["name"] == "Dist One" and [x["shipment"]["id"] for x in s["shipments"]] == ["SH1"]
    assert [c["serial"]["id"] for c in s["components"]] == ["SUB1-S0001"]
    b = d["batch"]
    assert {x["lot"]["id"] for x in b["materialLots"]} == {"L3", "L9"}
    assert {x["batch"]["id"] for x in b["inputBatches"]} == {"SUB1", "RW1"}
    assert [x["batch"]["id"] for x in b["usedIn"]] == ["RW1"]
    assert b["equipment"][0]["equipment"]["id"] == "EQ1"
    assert d["missing"] is None


# -- DataLoaders: bounded query counts ----------------------------------------------------------


PAGE_QUERY = """query($n: Int!) { serials(first: $n, filter: {batch: "BIG"}) { edges { node {
    id batch { id product { name } } product { name } customer { name kind }
    shipments { shipment { id customer { name } } } } } } }"""


def test_page_of_100_costs_a_bounded_number_of_queries(schema: Any, plant_store: Any) -> None:
    counts = {}
    for n in (10, 100):
        cs = CountingStore(plant_store)
        d = ok(gql(schema, cs, PAGE_QUERY, n=n))
        assert len(d["serials"]["edges"]) == n
        assert all(e["node"]["customer"]["name"] for e in d["serials"]["edges"])
        counts[n] = dict(cs.calls)
    # one page query + one per kind of lookup, whatever the page size
    assert counts[10] == counts[100], counts
    assert sum(counts[100].values()) <= 7, counts[100]
    assert counts[100]["browse.node_customer"] == 1 and counts[100]["browse.serial_shipments"] == 1


def test_nested_connections_are_batched_too(schema: Any, plant_store: Any) -> None:
    cs = CountingStore(plant_store)
    d = ok(gql(schema, cs, """{ batches(first: 50) { edges { node { id
        serials(first: 3) { totalCount edges { node { id } } } materialLots { lot { id } } } } } }"""))
    assert len(d["batches"]["edges"]) == 7
    assert cs.calls["browse.batch_serials_page"] == 1 and cs.calls["browse.batch_lots"] == 1, dict(cs.calls)
    big = next(e["node"] for e in d["batches"]["edges"] if e["node"]["id"] == "BIG")
    assert big["serials"]["totalCount"] == 120 and len(big["serials"]["edges"]) == 3


# -- limits and errors ----------------------------------------------------------------------------


@pytest.mark.req("REQ-ACC-007")
def test_depth_limit_refuses_deep_queries(plant_store: Any) -> None:
    schema = build_schema(max_depth=4)
    deep = '{ serial(id: "FIN1-S0001") { batch { materialLots { lot { supplier { lots { edges { node { id } } } } } } } } }'
    r = gql(schema, plant_store, deep)
    assert r.errors and "exceeds maximum operation depth" in r.errors[0].message
    assert r.data is None


@pytest.mark.req("REQ-ACC-007")
def test_alias_and_token_limits(plant_store: Any) -> None:
    schema = build_schema(max_aliases=3, max_tokens=200)
    many = "{ " + " ".join(f'a{i}: batch(id: "FIN1") {{ id }}' for i in range(5)) + " }"
    r = gql(schema, plant_store, many)
    assert r.errors and "aliases" in r.errors[0].message.lower()
    huge = "{ " + " ".join("dashboard { totals }" for _ in range(60)) + " }"
    r = gql(schema, plant_store, huge)
    assert r.errors and "token" in r.errors[0].message.lower()


def test_unauthenticated_and_unauthorised_fields_say_why(schema: Any, plant_store: Any) -> None:
    r = gql(schema, plant_store, "{ dashboard { totals } }", actor=None)
    assert r.data is None and r.errors[0].extensions["code"] == "authentication_failed"
    r = gql(schema, plant_store, "{ dashboard { totals } }", actor=Actor("x", "X", frozenset()))
    assert r.errors[0].extensions["code"] == "permission_denied"
    assert "records.read" in r.errors[0].message


@pytest.mark.req("REQ-ACC-007")
def test_unexpected_errors_are_masked(schema: Any, plant_store: Any) -> None:
    class Broken(CountingStore):
        def read(self, name: str, /, **params: Any) -> list[dict[str, Any]]:
            raise RuntimeError("secret internals: /srv/db password=hunter2")

    r = gql(schema, Broken(plant_store), "{ dashboard { totals } }")
    msg = r.errors[0].message
    assert "hunter2" not in msg and "internal error" in msg
    assert r.errors[0].extensions == {"code": "internal", "request_id": "test-request"}


def test_engine_errors_keep_their_message(schema: Any, plant_store: Any) -> None:
    r = gql(schema, plant_store, '{ traceBack(key: "NO-SUCH-KEY") { counts } }')
    assert r.errors[0].extensions["code"] == "not_found"
    r = gql(schema, plant_store, "{ impact(cause: {}) { counts } }")
    assert r.errors[0].extensions["code"] == "validation_failed"


def test_trace_impact_scan_fields(schema: Any, plant_store: Any) -> None:
    d = ok(gql(schema, plant_store, """{
        traceBack(key: "FIN1-S0003") { start counts suppliers { supplier } lots { id depth } }
        traceForward(key: "L2", options: {maxDepth: 10}) { counts batches { id } }
        impact(cause: {lots: ["L1"]}, options: {includePaths: false}) { counts byStatus customers { id units } }
        scan(barcode: "FIN1-S0003") { resolved { label id } status }
    }"""))
    assert {s["supplier"] for s in d["traceBack"]["suppliers"]} == {"S1", "S2"}
    assert {b["id"] for b in d["traceForward"]["batches"]} >= {"FIN1", "FIN2"}
    assert d["impact"]["counts"]["customers"] == 3
    assert d["scan"]["resolved"] == {"label": "Serial", "id": "FIN1-S0003"}


def test_impact_says_which_engine_answered(schema: Any, plant_store: Any) -> None:
    from tracegraph.engine.trace import index as trace_index

    query = '{ impact(cause: {batches: ["FIN2"]}) { engine indexSeq counts } }'
    by_graph = ok(gql(schema, plant_store, query))["impact"]
    trace_index.refresh(plant_store)
    try:
        by_index = ok(gql(schema, plant_store, query))["impact"]
    finally:
        trace_index.disable(plant_store)
    assert by_graph["engine"] == "cypher" and by_graph["indexSeq"] is None
    assert by_index["engine"] == "index" and by_index["indexSeq"] == trace_index.head_seq(plant_store)
    assert by_index["counts"] == by_graph["counts"]


def test_exported_sdl_is_fresh() -> None:
    assert SDL_PATH.exists(), "run: tracegraph graphql-schema -o tracegraph/graphql/schema.graphql"
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), (
        "tracegraph/graphql/schema.graphql is stale: run `tracegraph graphql-schema -o tracegraph/graphql/schema.graphql`"
    )


def test_cursors_are_opaque_base64() -> None:
    from tracegraph.graphql.pagination import decode_cursor, encode_cursor

    c = encode_cursor(41)
    assert base64.urlsafe_b64decode(c) == b"o:41" and decode_cursor(c) == 42
