"""Every bad input of issue 14, through every door (CLI, REST, GraphQL): refused in the one error
shape naming the field, and nothing written (the audit head does not move). Table-driven: a new
bad input is one row.

The plant (tests/test_recall_plant.py): lot L1 -> batch B1 (10 units: 4 at distributor D1, 3 at
hospital H1, 1 in transit to H1, 2 in stock). A recall of L1 is in progress for the ack/return rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from typer.testing import CliRunner

from api_support import PASSWORD, Api, make_api, make_users, role_user
from test_recall_plant import build
from tracegraph.cli import app as cli_app
from tracegraph.engine.access import auth
from tracegraph.engine.audit.chain import head
from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.trace.models import ImpactCause

QA = role_user("qa_manager")
RID = "RC-BAD-INPUTS"
GS1 = "00812345678901"  # a GTIN with a valid check digit


@pytest.fixture(scope="module")
def doors(store: Any, embedded_server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from plantbuilder import Plant

    build(store)
    p = Plant()
    p.product(GS1)
    p.batch("GS1B", product=GS1, qty=1)
    p.serial("GS1-UNIT-777", "GS1B", serial_no="777")
    p.get("Serial", "GS1-UNIT-777")["expiry"] = "2027-01-31"
    p.write(store)
    make_users(store)
    admin = auth.authenticate(store, "admin1", PASSWORD)
    auth.add_user(store, admin, "u-qa-manager-2", "second QA manager", PASSWORD, ["qa_manager"], reason="test")
    author = auth.authenticate(store, QA, PASSWORD)
    data = R.RecallCreate(id=RID, jurisdiction="CN-NMPA", recall_class="II", reason="seal may leak", responsible=QA)
    R.create_recall_from_cause(store, author, data, ImpactCause(lots=["L1"]))
    R.approve(store, auth.authenticate(store, "u-qa-manager-2", PASSWORD), RID, password=PASSWORD, reason="ok")
    R.start(store, author, RID)
    api = make_api(store, tmp_path_factory.mktemp("bad"), raise_server_exceptions=False)
    env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": store.graph_name,
           "TRACEGRAPH_DATABASE_URL": "", "TRACEGRAPH_USER": QA, "TRACEGRAPH_PASSWORD": PASSWORD}
    return {"store": store, "api": api, "env": env}


@dataclass
class Case:
    """One bad input: how each door is asked, and the field each door must name."""

    name: str
    cli: list[str] | None = None
    cli_field: str | None = None
    rest: tuple[str, str, dict[str, Any]] | None = None  # method, url, {"params"|"json": ...}
    rest_field: str | None = None
    gql: tuple[str, dict[str, Any]] | None = None
    gql_field: str | None = None
    code: str = "validation_failed"
    extra: dict[str, Any] = field(default_factory=dict)


IMPACT = "query($c: ImpactCauseInput!, $o: ImpactOptionsInput) { impact(cause: $c, options: $o) { counts } }"
CREATE = "mutation($i: RecallInput!) { createRecall(input: $i) { id } }"
STEP = "mutation($c: String!, $i: CustomerStepInput!) { recordCustomerStep(id: \"" + RID + "\", customer: $c, input: $i) { id } }"
RETURN = "mutation($c: String!, $i: ReturnInput!) { recordReturns(id: \"" + RID + "\", customer: $c, input: $i) { recall } }"
SCAN = "query($b: String!) { scan(barcode: $b) { status } }"
DECISION = {"jurisdiction": "EU-MDR", "recall_class": "II", "reason": "x", "responsible": QA}
GQL_DECISION = {"jurisdiction": "EU-MDR", "recallClass": "II", "reason": "x", "responsible": QA, "cause": {"lots": ["L1"]}}
CREATE_CLI = ["recall", "create", "--lot", "L1", "-j", "EU-MDR", "-c", "II", "--reason", "x"]

CASES = [
    Case("impact window from > to",
         ["impact", "--supplier", "S1", "--received-from", "2026-03-02", "--received-to", "2026-03-01"], "--received-to",
         ("GET", "/impact", {"params": {"supplier": "S1", "received_from": "2026-03-02", "received_to": "2026-03-01"}}),
         "received_to",
         (IMPACT, {"c": {"supplier": "S1", "suppliedFrom": "2026-03-02", "suppliedTo": "2026-03-01"}}),
         "cause.supplied_to"),
    Case("impact from=2026-13-45",
         ["impact", "--supplier", "S1", "--from", "2026-13-45"], "--from",
         ("GET", "/impact", {"params": {"supplier": "S1", "from": "2026-13-45"}}), "from",
         (IMPACT, {"c": {"supplier": "S1", "suppliedFrom": "2026-13-45"}}), "cause.supplied_from"),
    Case("impact --from 2026-02-30 (equipment)",
         ["impact", "--equipment", "EQ1", "--from", "2026-02-30"], "--from",
         ("GET", "/impact", {"params": {"equipment": "EQ1", "from": "2026-02-30"}}), "from",
         (IMPACT, {"c": {"equipment": "EQ1", "windowFrom": "2026-02-30"}}), "cause.window_from"),
    Case("impact as_of=yesterday",
         ["impact", "--lot", "L1", "--as-of", "yesterday"], "as_of",
         ("GET", "/impact", {"params": {"lot": "L1", "as_of": "yesterday"}}), "as_of",
         (IMPACT, {"c": {"lots": ["L1"]}, "o": {"asOf": "yesterday"}}), "options.as_of"),
    Case("impact as_of far in the future",
         ["impact", "--lot", "L1", "--as-of", "2099-01-01"], "as_of",
         ("GET", "/impact", {"params": {"lot": "L1", "as_of": "2099-01-01"}}), "as_of",
         (IMPACT, {"c": {"lots": ["L1"]}, "o": {"asOf": "2099-01-01"}}), "options.as_of"),
    Case("impact equipment window without a timezone",
         ["impact", "--equipment", "EQ1", "--used-from", "2026-02-01T10:00:00"], "--used-from",
         ("GET", "/impact", {"params": {"equipment": "EQ1", "used_from": "2026-02-01T10:00:00"}}), "used_from",
         (IMPACT, {"c": {"equipment": "EQ1", "windowFrom": "2026-02-01T10:00:00"}}), "cause.window_from"),
    Case("recall aware_at 'last tuesday'",
         [*CREATE_CLI, "--aware-at", "last tuesday"], "aware_at",
         ("POST", "/recalls", {"json": {"decision": {**DECISION, "aware_at": "last tuesday"}, "cause": {"lots": ["L1"]}}}),
         "decision.aware_at",
         (CREATE, {"i": {**GQL_DECISION, "awareAt": "last tuesday"}}), "recall.aware_at"),
    Case("recall responsible is not a user",
         [*CREATE_CLI, "--responsible", "no.such.user"], "responsible",
         ("POST", "/recalls", {"json": {"decision": {**DECISION, "responsible": "no.such.user"}, "cause": {"lots": ["L1"]}}}),
         "responsible",
         (CREATE, {"i": {**GQL_DECISION, "responsible": "no.such.user"}}), "responsible"),
    Case("recall ack --stock -5",
         ["recall", "ack", RID, "--customer", "D1", "--step", "stock_count", "--stock", "-5"], "stock_count",
         ("POST", f"/recalls/{RID}/customers/D1/steps", {"json": {"step": "stock_count", "stock_count": -5}}),
         "stock_count",
         (STEP, {"c": "D1", "i": {"step": "stock_count", "stockCount": -5}}), "input.stock_count"),
    Case("acknowledgement time without a timezone",
         ["recall", "ack", RID, "--customer", "D1", "--step", "sent", "--at", "2026-03-02T10:00:00"], "at",
         ("POST", f"/recalls/{RID}/customers/D1/steps", {"json": {"step": "sent", "at": "2026-03-02T10:00:00"}}), "at",
         (STEP, {"c": "D1", "i": {"step": "sent", "at": "2026-03-02T10:00:00"}}), "input.at"),
    Case("return scan of a unit another customer holds",
         ["recall", "return", RID, "--customer", "D1", "--scan", "B1-S0005"], "scans",
         ("POST", f"/recalls/{RID}/customers/D1/returns", {"json": {"scans": ["B1-S0005"]}}), "scans",
         (RETURN, {"c": "D1", "i": {"scans": ["B1-S0005"]}}), "scans"),
    Case("50 destroyed where the customer holds 4",
         ["recall", "return", RID, "--customer", "D1", "--disposition", "destroyed", "--qty", "50"], "qty",
         ("POST", f"/recalls/{RID}/customers/D1/returns", {"json": {"disposition": "destroyed", "qty": 50}}), "qty",
         (RETURN, {"c": "D1", "i": {"disposition": "destroyed", "qty": 50}}), "qty"),
    Case("NUL byte in a key",
         ["impact", "--lot", "L\x001"], "--lot",
         ("GET", "/audit/log", {"params": {"user": "a\x00b"}}), "query.user",
         (IMPACT, {"c": {"lots": ["L\x001"]}}), "variables.c.lots.0"),
    Case("escape character in free text",
         [*CREATE_CLI[:-1], "seal\x1b[31m leaks"], "--reason",
         ("POST", "/recalls", {"json": {"decision": {**DECISION, "reason": "seal\x1b leaks"}, "cause": {"lots": ["L1"]}}}),
         "body.decision.reason",
         (CREATE, {"i": {**GQL_DECISION, "reason": "seal\x1b leaks"}}), "variables.i.reason"),
    Case("audit log since 'yesterday'",
         ["audit", "log", "--since", "yesterday"], "since",
         ("GET", "/audit/log", {"params": {"since": "yesterday"}}), "since",
         ("query { auditLog(since: \"yesterday\", first: 2) { totalCount } }", {}), "since"),
    Case("milestone time without a timezone",
         ["recall", "milestone", RID, "authority_report", "--at", "2026-03-05 09:30"], "at"),
    Case("truncated (01)...(21 scan",
         ["scan", f"(01){GS1}(21"], "code",
         ("GET", "/scan", {"params": {"code": f"(01){GS1}(21"}}), "code",
         (SCAN, {"b": f"(01){GS1}(21"}), "code"),
    Case("truncated Digital Link .../21",
         ["scan", f"https://id.gs1.org/01/{GS1}/21"], "code",
         ("GET", "/scan", {"params": {"code": f"https://id.gs1.org/01/{GS1}/21"}}), "code",
         (SCAN, {"b": f"https://id.gs1.org/01/{GS1}/21/"}), "code"),
    Case("SGTIN EPC without its serial",
         ["scan", "urn:epc:id:sgtin:0812345.067890."], "code",
         ("GET", "/scan", {"params": {"code": "urn:epc:id:sgtin:0812345.067890"}}), "code",
         (SCAN, {"b": "urn:epc:id:sgtin:0812345.067890."}), "code"),
    Case("a lot AI without value inside the code",
         ["scan", f"(01){GS1}(10)(21)777"], "code",
         ("GET", "/scan", {"params": {"code": f"(01){GS1}(10)(21)777"}}), "code",
         (SCAN, {"b": f"(01){GS1}(10)(21)777"}), "code"),
    Case("return scan whose (10) lot contradicts the unit",
         None, None,
         ("POST", f"/recalls/{RID}/customers/D1/returns", {"json": {"scans": [f"(01){GS1}(10)OTHER(21)777"]}}),
         "scans",
         (RETURN, {"c": "D1", "i": {"scans": [f"(01){GS1}(10)OTHER(21)777"]}}), "scans"),
]


def _seq(store: Any) -> int:
    return int(head(store)["seq"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_on_every_door_and_nothing_written(doors: dict[str, Any], case: Case) -> None:
    store, api, env = doors["store"], doors["api"], doors["env"]
    api_: Api = api
    before = _seq(store)
    if case.cli is not None:
        res = CliRunner().invoke(cli_app, [*case.cli, "--json"], env=env)
        assert res.exit_code == 2, (case.name, res.exit_code, res.stdout)
        err = json.loads(res.stdout)["error"]
        assert err["code"] == case.code and err["field"] == case.cli_field, (case.name, err)
        assert err["message"] and "hint" in err
    if case.rest is not None:
        method, url, kw = case.rest
        r = api_.client.request(method, url, headers=api_.headers("qa_manager"), **kw)
        assert r.status_code == 422, (case.name, r.status_code, r.text)
        err = r.json()["error"]
        assert err["code"] == case.code and err["field"] == case.rest_field, (case.name, err)
        assert err["message"] and err.get("hint"), err
        assert "MATCH" not in r.text and "errCtx" not in r.text  # never the query text
    if case.gql is not None:
        query, variables = case.gql
        body = api_.gql(query, role="qa_manager", **variables)
        errs = body.get("errors") or []
        assert len(errs) == 1, (case.name, body)
        ext = errs[0].get("extensions") or {}
        assert ext.get("code") == case.code and ext.get("field") == case.gql_field, (case.name, errs)
    assert _seq(store) == before, f"{case.name}: something was written"


def test_a_unit_held_by_another_customer_is_credited_only_as_a_confirmed_transfer(doors: dict[str, Any]) -> None:
    """Confirmed as a transfer, the unit is accounted and credited to the customer that held it at
    the decision (H1), so H1's reconciliation does not chase a unit that came back through D1."""
    from tracegraph.engine.recall.campaign import customers
    from tracegraph.engine.recall.returns import reconcile

    store, api = doors["store"], doors["api"]
    before = _seq(store)
    h1_before = next(c for c in reconcile(store, RID).customers if c.customer == "H1")
    r = api.client.post(f"/recalls/{RID}/customers/D1/returns", json={"scans": ["B1-S0006"], "transfer": True},
                        headers=api.headers("qa_manager"))
    assert r.status_code == 201, r.text
    assert r.json()["serials"] == ["B1-S0006"] and _seq(store) == before + 1
    h1 = next(c for c in reconcile(store, RID).customers if c.customer == "H1")
    d1 = next(c for c in customers(store, RID) if c.id == "D1")
    assert h1.returned == h1_before.returned + 1 and h1.unaccounted == h1_before.unaccounted - 1
    assert d1.returned == 0  # D1's own four units are still to come
    assert next(c for c in customers(store, RID) if c.id == "H1").transferred_out == 1
    disp = store.run("MATCH (:Recall {id: $id})-[c:COVERS]->(:Serial {id: 'B1-S0006'}) RETURN c.disposition AS d",
                     {"id": RID}, write=False)[0]["d"]
    assert disp == "returned"
    # D1 may still return its own 4 units, not 5
    r = api.client.post(f"/recalls/{RID}/customers/D1/returns", json={"disposition": "not_found", "qty": 5},
                        headers=api.headers("qa_manager"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "qty"


def test_scan_that_contradicts_the_database_is_answered_with_warnings(doors: dict[str, Any]) -> None:
    api = doors["api"]
    h = api.headers("qa_manager")
    good = api.client.get("/scan", params={"code": f"(01){GS1}(17)270131(21)777"}, headers=h).json()
    assert good["resolved"]["id"] == "GS1-UNIT-777" and good["warnings"] == []
    lot = api.client.get("/scan", params={"code": f"(01){GS1}(10)OTHER(21)777"}, headers=h).json()
    assert lot["resolved"]["id"] == "GS1-UNIT-777" and any("lot (10) OTHER" in w for w in lot["warnings"])
    exp = api.client.get("/scan", params={"code": f"(01){GS1}(17)280228(21)777"}, headers=h).json()
    assert any("expiry (17) 2028-02-28" in w for w in exp["warnings"]), exp
    g = api.gql(SCAN.replace("{ status }", "{ status warnings }"), role="qa_manager", b=f"(01){GS1}(10)OTHER(21)777")
    assert g["data"]["scan"]["warnings"], g
    res = CliRunner().invoke(cli_app, ["scan", f"(01){GS1}(10)OTHER(21)777", "--json"], env=doors["env"])
    assert res.exit_code == 0 and json.loads(res.stdout)["warnings"], res.stdout


def test_store_refuses_control_characters_as_a_second_line(doors: dict[str, Any]) -> None:
    store = doors["store"]
    with pytest.raises(ValidationFailed) as exc:
        store.run("MATCH (u:User {id: $actor}) RETURN u.id AS id", {"actor": "a\x00b"}, write=False)
    assert exc.value.field == "$actor"
    # the project's own separators (import staging blobs) still pass
    assert store.run("RETURN $x AS x", {"x": "a\x1fb\x1ec"}, write=False)[0]["x"] == "a\x1fb\x1ec"


def test_deadlines_and_alerts_survive_an_unreadable_stored_time(doors: dict[str, Any]) -> None:
    """A recall stored before validation (or edited by hand) must not break every recall's clocks."""
    store, env = doors["store"], doors["env"]
    good = store.run("MATCH (r:Recall {id: $id}) RETURN r.decision_at AS d", {"id": RID}, write=False)[0]["d"]
    store.run("MATCH (r:Recall {id: $id}) SET r.decision_at = 'last tuesday'", {"id": RID})
    try:
        res = CliRunner().invoke(cli_app, ["recall", "deadlines", RID, "--json"], env=env)
        assert res.exit_code == 0, res.stdout
        states = {d["clock"]: d["state"] for d in json.loads(res.stdout)}
        assert "unreadable" in states.values(), states
        res = CliRunner().invoke(cli_app, ["recall", "alerts", "--evaluate", "--json"], env=env)
        assert res.exit_code == 0, res.stdout
        assert any(a["kind"] == "unreadable_data" for a in json.loads(res.stdout)), res.stdout
    finally:
        store.run("MATCH (r:Recall {id: $id}) SET r.decision_at = $d", {"id": RID, "d": good})


def test_fastapi_own_validation_errors_have_the_one_shape(doors: dict[str, Any]) -> None:
    api = doors["api"]
    r = api.client.get("/impact", params={"lot": "L1", "max_depth": "deep"}, headers=api.headers("qa_manager"))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_failed" and err["field"] == "max_depth" and err["hint"]
    assert r.json()["request_id"]
    r = api.client.post("/recalls", json={"decision": {"jurisdiction": "XX"}}, headers=api.headers("qa_manager"))
    assert r.status_code == 422 and r.json()["error"]["field"].startswith("decision.")


def test_a_database_error_never_shows_the_query_text(doors: dict[str, Any]) -> None:
    """A real error of the real database (a statement it rejects) as the API layers answer it."""
    from tracegraph.api.errors import public_database_error
    from tracegraph.engine.errors import DatabaseError

    with pytest.raises(DatabaseError) as exc:
        doors["store"].run("MATCH (n:Secret {id: 'x'}) RETURN n.id AS id ORDER BY", write=False)
    assert "MATCH" in str(exc.value)  # the store's own message is for the log
    shown = public_database_error(exc.value, "rid-1")
    assert "MATCH" not in json.dumps(shown) and "Secret" not in json.dumps(shown)
    assert shown["code"] == "database" and "rid-1" in shown["hint"]


@pytest.mark.parametrize("kind", ["all", "batch", "lot"])
def test_export_with_unusual_ids_answers_never_a_server_error(doors: dict[str, Any], kind: str) -> None:
    """schemathesis found `GET /export/epcis` answering 500 for ids outside latin-1 (the download
    name in a header): every id gets a clean answer and an ASCII download name."""
    api = doors["api"]
    for raw in ("%ff%fe", "%e2%80%ae", "%F0%9F%92%A9", "%22%3B", "B1"):
        r = api.client.get(f"/export/epcis?kind={kind}&id={raw}", headers=api.headers("qa_manager"))
        assert r.status_code < 500, (kind, raw, r.status_code, r.text[:200])
        if r.status_code == 200:
            cd = r.headers["content-disposition"]
            assert cd.isascii() and cd.startswith("attachment; filename=")
