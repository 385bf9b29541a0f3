"""Typed quality records over GraphQL on the real app and the embedded store: records made through
the engine's lifecycle (open, then steps), then `qualityRecords` filtered (several statuses, owner,
due and creation windows, text), sorted both ways, paged by cursors, read through interface
fragments; refusals in the one error shape (bad sort field, bad date, unknown type, a window
that ends before it starts) and by permission; the name search of customers, suppliers, products."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from pydantic import BaseModel

from api_support import PASSWORD, Api, make_api, make_users, role_user
from plantbuilder import demo_plant
from tracegraph.engine.access import auth
from tracegraph.engine.clock import FrozenClock
from tracegraph.engine.qms import CAPA, COMPLAINT, DEVIATION, RECORD_TYPES, move, open_record
from tracegraph.engine.qms.lifecycle import RecordType
from tracegraph.engine.qms.lifecycle import Transition as T
from tracegraph.graphql.schema import sdl
from tracegraph.graphql.types_quality import QualityRecord, concrete_type, graphql_name

PAGE = """query($types: [String!], $statuses: [QualityStatus!], $owner: String, $dueBefore: String,
  $dueAfter: String, $createdFrom: String, $createdTo: String, $q: String, $sort: QualityRecordSort,
  $first: Int, $after: String) {
  qualityRecords(types: $types, statuses: $statuses, owner: $owner, dueBefore: $dueBefore, dueAfter: $dueAfter,
                 createdFrom: $createdFrom, createdTo: $createdTo, q: $q, sort: $sort, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { __typename id type status title owner dueDate createdAt } } } }"""


def _clock(day: int) -> FrozenClock:
    return FrozenClock(datetime(2026, 3, day, 9, tzinfo=UTC))


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    plant = demo_plant()
    plant.customer("N1", name="Nordic Medical AB")
    plant.supplier("S9", "Nordic Polymers")
    plant.product("P9", "Nordic Catheter")
    plant.write(store)
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("qtyped"), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def recs(api: Api) -> dict[str, str]:
    """Five records of three types, opened on different days through the engine, two moved on."""
    store = api.store
    qa = auth.authenticate(store, role_user("qa_manager"), PASSWORD)
    handler = auth.authenticate(store, role_user("complaint_handler"), PASSWORD)

    def capa(day: int, title: str, owner: str, due: str) -> str:
        return open_record(store, CAPA, qa, {"title": title, "source": "complaint", "problem": title,
                                             "owner": owner, "due_date": due}, clock=_clock(day)).id

    a = capa(1, "Resin supplier brittleness", "alice", "2026-04-10")
    move(store, CAPA, qa, a, "plan", fields={"root_cause": "resin lot moisture", "actions": ["dry resin", "audit"],
                                             "effectiveness_criteria": "no cracks in 3 lots"}, clock=_clock(2))
    x = open_record(store, COMPLAINT, handler, {"reporter": "Nordic Hospital", "event_date": "2026-03-01",
                                                 "description": "cracked housing", "patient_involved": True},
                    clock=_clock(2)).id
    move(store, COMPLAINT, handler, x, "investigate", clock=_clock(3))
    d = open_record(store, DEVIATION, qa, {"title": "Oven temperature excursion", "description": "oven 3 at 190C",
                                           "severity": "major"}, clock=_clock(3)).id
    b = capa(5, "Label misprint", "bob", "2026-05-20")
    c = capa(10, "nordic sterilisation drift", "alice", "2026-06-30")
    return {"A": a, "B": b, "C": c, "X": x, "D": d}


def _page(api: Api, role: str = "viewer", **variables: Any) -> dict[str, Any]:
    body = api.gql(PAGE, role=role, **variables)
    assert not body.get("errors"), body["errors"]
    page: dict[str, Any] = body["data"]["qualityRecords"]
    return page


def _ids(page: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in page["edges"]]


def _refusal(api: Api, **variables: Any) -> dict[str, Any]:
    body = api.gql(PAGE, **variables)
    assert body["data"] is None or body["data"].get("qualityRecords") is None, body
    (err,) = body["errors"]
    assert err["extensions"]["code"] == "validation_failed", err
    return dict(err)


QT = ["capa", "complaint", "deviation"]


def test_filters_several_statuses_owner_and_due_window(api: Api, recs: dict[str, str]) -> None:
    both = _page(api, types=["capa"], statuses=["open", "in_progress"], owner="alice")
    assert set(_ids(both)) == {recs["A"], recs["C"]} and both["totalCount"] == 2
    assert {e["node"]["status"] for e in both["edges"]} == {"open", "in_progress"}
    only_open = _page(api, types=["capa"], statuses=["open"], owner="alice")
    assert _ids(only_open) == [recs["C"]]
    due = _page(api, types=["capa"], dueAfter="2026-04-10", dueBefore="2026-05-20")  # inclusive on both ends
    assert set(_ids(due)) == {recs["A"], recs["B"]}
    assert {e["node"]["dueDate"] for e in due["edges"]} == {"2026-04-10", "2026-05-20"}
    assert _ids(_page(api, types=["capa"], dueAfter="2026-05-21")) == [recs["C"]]
    created = _page(api, types=QT, createdFrom="2026-03-02", createdTo="2026-03-05")
    assert set(_ids(created)) == {recs["X"], recs["D"], recs["B"]}
    # owner of a record without one is who opened it; the status filter spans types
    mine = _page(api, types=QT, owner=role_user("complaint_handler"))
    assert _ids(mine) == [recs["X"]] and mine["edges"][0]["node"]["type"] == "complaint"
    assert set(_ids(_page(api, types=QT, statuses=["investigating", "in_progress"]))) == {recs["X"], recs["A"]}


def test_sorting_both_directions(api: Api, recs: dict[str, str]) -> None:
    asc = _ids(_page(api, types=["capa"], sort={"field": "dueDate", "direction": "ASC"}))
    desc = _ids(_page(api, types=["capa"], sort={"field": "dueDate", "direction": "DESC"}))
    assert asc == [recs["A"], recs["B"], recs["C"]] and desc == asc[::-1]
    # titles sort without regard to case: Label, nordic, Resin
    titles = _ids(_page(api, types=["capa"], sort={"field": "title", "direction": "ASC"}))
    assert titles == [recs["B"], recs["C"], recs["A"]]
    # (the demo plant's CMP1 and DEV1 have no creation time: the window leaves them out)
    by_created = _ids(_page(api, types=QT, createdFrom="2026-03-01", sort={"field": "createdAt", "direction": "ASC"}))
    assert by_created == [recs["A"], recs["X"], recs["D"], recs["B"], recs["C"]]
    by_type = _page(api, types=QT, sort={"field": "type", "direction": "DESC"})
    labels = [e["node"]["__typename"] for e in by_type["edges"]]
    assert labels == sorted(labels, reverse=True) and set(labels) == {"CAPA", "Complaint", "Deviation"}
    # the default order (and the one-type form of older clients): id, newest first
    default = _ids(_page(api, types=QT))
    assert default == sorted(default, reverse=True)


def test_pages_by_cursor_cover_the_list_once(api: Api, recs: dict[str, str]) -> None:
    sort = {"field": "createdAt", "direction": "DESC"}
    seen: list[str] = []
    after = None
    for n in range(10):
        page = _page(api, types=QT, createdFrom="2026-03-01", sort=sort, first=2, after=after)
        assert page["totalCount"] == 5 and page["pageInfo"]["hasPreviousPage"] is (n > 0)
        seen += _ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [recs["C"], recs["B"], recs["D"], recs["X"], recs["A"]]
    bad = _refusal(api, types=QT, after="not-a-cursor")
    assert "cursor" in bad["message"]


def test_text_search_finds_names_and_titles_in_any_case(api: Api, recs: dict[str, str]) -> None:
    nordic = _page(api, types=QT, q="NORDIC")
    assert set(_ids(nordic)) == {recs["C"], recs["X"]}  # a CAPA's title, a complaint's reporter
    assert _ids(_page(api, types=QT, q="oven temp")) == [recs["D"]]
    assert _ids(_page(api, types=QT, q="Cracked")) == [recs["X"]]  # a complaint's title is its description
    assert _ids(_page(api, types=QT, q=recs["B"][-6:].lower())) == [recs["B"]]  # ids too
    assert _page(api, types=QT, q="no such words")["totalCount"] == 0
    # without `types`: every record type is searched (suppliers by name)
    every = _page(api, q="nordic")
    assert {recs["C"], recs["X"], "S9"} <= set(_ids(every))
    s9 = next(e["node"] for e in every["edges"] if e["node"]["id"] == "S9")
    assert s9["__typename"] == "SupplierQualification" and s9["title"] == "Nordic Polymers"


def test_interface_fragments_show_each_types_own_fields(api: Api, recs: dict[str, str]) -> None:
    q = """query($q: String) { qualityRecords(types: ["capa", "complaint", "deviation"], q: $q, first: 10,
              sort: {field: "createdAt", direction: ASC}) { edges { node {
        __typename id status title dueDate createdAt updatedAt props nextSteps steps { name }
        ... on CAPA { rootCause actions effectivenessCriteria effective source }
        ... on Complaint { reporter eventDate patientInvolved reportable eventSeverity: severity }
        ... on Deviation { severity disposition category } } } } }"""
    body = api.gql(q)
    assert not body.get("errors"), body["errors"]
    nodes = {e["node"]["id"]: e["node"] for e in body["data"]["qualityRecords"]["edges"]}
    a, x, d = nodes[recs["A"]], nodes[recs["X"]], nodes[recs["D"]]
    assert a["__typename"] == "CAPA" and a["status"] == "in_progress" and a["dueDate"] == "2026-04-10"
    assert a["rootCause"] == "resin lot moisture" and a["actions"] == ["dry resin", "audit"]
    assert a["effective"] is None and a["nextSteps"] == ["implemented"] and a["steps"] == [{"name": "implemented"}]
    assert a["createdAt"].startswith("2026-03-01T09:00") and a["updatedAt"].startswith("2026-03-02T09:00")
    assert x["__typename"] == "Complaint" and x["reporter"] == "Nordic Hospital" and x["eventDate"] == "2026-03-01"
    assert x["patientInvolved"] is True and x["reportable"] is None and x["eventSeverity"] is None
    assert x["title"] == "cracked housing" and x["dueDate"] is None and x["props"]["reporter"] == "Nordic Hospital"
    assert d["__typename"] == "Deviation" and d["severity"] == "major" and d["disposition"] is None
    assert d["category"] == "process" and "severity" not in a  # fragments of other types add nothing
    # the one-type form older clients send answers the same nodes, with the generic fields
    old = api.gql('{ qualityRecords(type: "capa", status: "open") { totalCount edges { node { id status props '
                  'concerns { id } signatures { id } } } } }')
    assert not old.get("errors"), old["errors"]
    assert {e["node"]["id"] for e in old["data"]["qualityRecords"]["edges"]} == {recs["B"], recs["C"]}


def test_refusals_name_the_field(api: Api, recs: dict[str, str]) -> None:
    err = _refusal(api, types=QT, sort={"field": "password", "direction": "ASC"})
    assert err["extensions"]["problems"][0]["field"] == "sort.field" and "sort.field" in err["message"]
    err = _refusal(api, dueBefore="2026-02-30")
    assert err["extensions"]["problems"][0]["field"] == "dueBefore" and "no such day" in err["message"]
    err = _refusal(api, createdFrom="last tuesday")
    assert err["extensions"]["problems"][0]["field"] == "createdFrom"
    err = _refusal(api, types=["capa", "recipe"])
    assert err["extensions"]["problems"][0]["field"] == "types.1" and "recipe" in err["message"]
    err = _refusal(api, dueAfter="2026-05-01", dueBefore="2026-04-01")
    assert err["extensions"]["problems"][0]["field"] == "dueBefore"
    body = api.gql('{ qualityRecords(type: "capa", status: "half-done") { totalCount } }')
    assert body["errors"][0]["extensions"]["problems"][0]["field"] == "statuses.0"
    # an unknown status in the enum argument is refused by GraphQL itself, before any resolver
    body = api.gql("{ qualityRecords(statuses: [half_done]) { totalCount } }")
    assert body["errors"] and body.get("data") is None


def test_a_user_without_qms_read_is_refused(api: Api, recs: dict[str, str]) -> None:
    body = api.gql(PAGE, role="capture_device", types=["capa"])
    assert [e["extensions"]["code"] for e in body["errors"]] == ["permission_denied"]
    assert body["data"] is None
    body = api.gql(PAGE, role=None, types=["capa"])
    assert [e["extensions"]["code"] for e in body["errors"]] == ["authentication_failed"]


def test_name_search_of_customers_suppliers_and_products(api: Api) -> None:
    q = """{ customers(filter: {q: "nordic"}) { edges { node { id name } } }
             suppliers(filter: {q: "NORDIC"}) { edges { node { id name } } }
             products(filter: {q: "Nordic"}) { totalCount edges { node { id name } } }
             byId: customers(filter: {q: "H1"}) { edges { node { id } } } }"""
    body = api.gql(q)
    assert not body.get("errors"), body["errors"]
    d = body["data"]
    assert [e["node"] for e in d["customers"]["edges"]] == [{"id": "N1", "name": "Nordic Medical AB"}]
    assert [e["node"]["id"] for e in d["suppliers"]["edges"]] == ["S9"]
    assert d["products"]["totalCount"] == 1 and d["products"]["edges"][0]["node"]["name"] == "Nordic Catheter"
    assert [e["node"]["id"] for e in d["byId"]["edges"]] == ["H1"]
    names = api.gql('{ products(sort: NAME, desc: true, first: 2) { edges { node { name } } } }')["data"]
    got = [e["node"]["name"] for e in names["products"]["edges"]]
    assert got == sorted(got, reverse=True) and len(got) == 2


def test_every_record_type_of_the_data_has_its_typed_graphql_type() -> None:
    text = sdl()
    seen = {rt.label: rt for rt in RECORD_TYPES.values()}
    for rt in seen.values():
        block = text.split(f"type {graphql_name(rt)} implements QualityRecord {{", 1)[1].split("\n}", 1)[0]
        for field in rt.fields.model_fields:
            camel = field.split("_")[0] + "".join(w.title() for w in field.split("_")[1:])
            assert f"\n  {camel}:" in block, (rt.label, field)
    assert "type TraceQualityRecord {" in text and "interface QualityRecord {" in text


def test_a_new_record_type_in_the_data_gets_typed_fields_and_enums() -> None:
    from enum import Enum
    from typing import Literal

    class Risk(str, Enum):
        low = "low"
        high = "high"

    class AuditFields(BaseModel):
        title: str
        auditor: str
        planned_on: Any = None
        risk: Risk = Risk.low
        scope: Literal["internal", "supplier"] = "internal"
        findings: list[str] = []
        score: int | None = None

    audit = RecordType(label="Audit", prefix="AUD", title="quality audit", open_permission="qms.write",
                       fields=AuditFields, transitions=(T(name="close", from_statuses=("open",), to="closed",
                                                          permission="qms.approve"),))
    cls, _ = concrete_type(audit)
    schema = strawberry.Schema(query=AnyRecordQuery, types=[cls])
    text = schema.as_str()
    assert "type Audit implements QualityRecord" in text
    for line in ("auditor: String", "risk: AuditRisk", "scope: AuditScope", "findings: [String!]", "score: Int"):
        assert line in text, line
    assert "enum AuditRisk {\n  low\n  high\n}" in text and "enum AuditScope {\n  internal\n  supplier\n}" in text


@strawberry.type
class AnyRecordQuery:
    @strawberry.field
    def one(self) -> QualityRecord | None:
        return None
