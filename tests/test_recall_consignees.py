"""A recall notifies every consignee in the chain of distribution, not only the customers holding
units now (issue 14: "a recall notifies distributors that passed units on"; 21 CFR 7.49, the EU
MDR's field safety notice).

The chain is hand-written (tests/fixtures/bundle_chain/): units U1..U5 of batch LOT8 (made from
resin lot R1 of supplier SUP-ACME) packed into case A (U1-U3) and case B (U4, U5), both cases on
pallet PAL-1; the manufacturer ships the pallet to distributor D (DA-1001, delivered 01-12); D
breaks it down (01-13) and ships case A to hospital H1 (DA-2001) and case B to hospital H2
(DA-2002, a zh-CN customer). U6 stays in our stock. Expected by hand: D received 5 units, holds
0, passed 5 on (role passed_on); H1 holds 3 and H2 holds 2 (role holder).

A second, hand-written EPCIS story (tests/fixtures/epcis_containers/, see test_containers.py) has
the distributor keep case C: there it is both a holder and a pass-through consignee.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api_support import PASSWORD, Api, make_api, make_users, role_user
from tracegraph.engine.access import auth
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import Conflict
from tracegraph.engine.imports.runner import run_import
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.recall.effectiveness import effectiveness
from tracegraph.engine.recall.notify import compose_letter, generate_notifications, passed_on_units, update_customer
from tracegraph.engine.recall.returns import record_returns
from tracegraph.engine.recall.scope import identify
from tracegraph.engine.trace import index as trace_index
from tracegraph.engine.trace.models import ImpactCause
from tracegraph.loaders.bundle import load_bundle

FIX = Path(__file__).parent / "fixtures"
IMPORTER = Actor(id="u-qa", name="QA Importer", roles=frozenset({"qa"}))
AUTHOR = Actor(id="alice", name="Alice Author", roles=frozenset({"qa_manager"}))
APPROVER = Actor(id="bob", name="Bob Approver", roles=frozenset({"qa_manager"}))
COORD = Actor(id="carol", name="Carol Coordinator", roles=frozenset({"recall_coordinator"}))

#: (role, units received, units held, units passed on), by hand from the story above
EXPECTED = {"D": ("passed_on", 5.0, 0.0, 5.0), "H1": ("holder", 3.0, 3.0, 0.0), "H2": ("holder", 2.0, 2.0, 0.0)}


def roles(custs: list[Any]) -> dict[str, tuple[str, float, float, float]]:
    return {c.id: (c.role, max(c.units_received, c.units), c.units, c.units_passed_on) for c in custs}


def load_chain(store: Any) -> Any:
    b = load_bundle(FIX / "bundle_chain")
    run_import(store, b.batch, IMPORTER, source_files=b.files)
    return store


@pytest.fixture(scope="module")
def chain(embedded_server: Any) -> Any:
    """The chain as imported; tests that change unit statuses (returns) use their own graph."""
    from tracegraph.engine.stores.falkordb import FalkorDBStore

    s = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph="t_chain_" + uuid.uuid4().hex[:8],
                      server=embedded_server)
    s.apply_schema()
    yield load_chain(s)
    trace_index.disable(s)
    s.drop_graph()
    s.close()


def _recall(store: Any, rid: str, cause: ImpactCause | None = None, **kw: Any) -> str:
    data = R.RecallCreate(id=rid, jurisdiction=kw.pop("jurisdiction", "US-FDA"), recall_class="II", type="removal",
                          reason="seal may leak", health_hazard="infection", responsible="alice", **kw)
    return R.create_recall_from_cause(store, AUTHOR, data, cause or ImpactCause(lots=["R1"])).recall.id


@pytest.mark.parametrize("how", ["impact-graph", "impact-index", "fallback"])
def test_the_distributor_that_passed_units_on_is_a_consignee(chain: Any, how: str) -> None:
    if how == "impact-index":
        trace_index.refresh(chain)
    else:
        trace_index.disable(chain)
    aff = identify(chain, ImpactCause(lots=["R1"]), use_impact=how != "fallback")
    assert roles(aff.customers) == EXPECTED
    assert aff.units == 6 and sum(c.units for c in aff.customers) == 5  # U6 is in our stock
    trace_index.disable(chain)


def test_the_recall_lists_every_consignee_with_its_role(chain: Any) -> None:
    rid = _recall(chain, "RC-CHAIN-1", ImpactCause(supplier="SUP-ACME"))
    rec = R.get_recall(chain, rid)
    assert rec.customers_affected == 3 and rec.field_units == 5.0 and rec.units_covered == 6.0
    assert roles(R.customers(chain, rid)) == EXPECTED
    # one serial cause, one unit at H2: D passed it on, H1 is not concerned
    rid = _recall(chain, "RC-CHAIN-U4", ImpactCause(serials=["U4"]))
    assert roles(R.customers(chain, rid)) == {"D": ("passed_on", 1.0, 0.0, 1.0), "H2": ("holder", 1.0, 1.0, 0.0)}


def _text(path: str) -> str:
    pypdf = pytest.importorskip("pypdf")
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


def test_the_pass_through_letter_asks_for_a_sub_recall(chain: Any, tmp_path: Path) -> None:
    from tracegraph.engine.recall.notify import cjk_font

    rid = _recall(chain, "RC-CHAIN-2")
    R.approve(chain, APPROVER, rid, password="pw", reason="ok")
    res = generate_notifications(chain, COORD, rid, tmp_path, sheet_format="csv")
    letters = {x.customer: x for x in res.letters}
    assert set(letters) == {"D", "H1", "H2"}
    d = _text(letters["D"].path)
    assert "5 unit(s) of the affected products were delivered to you" in d
    assert "SUB-RECALL" in d and "pass this notice on to each of them" in d and "you still hold 0" in d
    assert "Customers we passed this notice on to" in d
    for u in ("U1", "U2", "U3"):
        assert f"{u} batch LOT8" in d and "-> H1" in d
    assert "U5 batch LOT8" in d and "-> H2" in d and "U6" not in d
    assert "P-PUMP" in d and "LOT8" in d  # products and lots named although D holds nothing
    h1 = _text(letters["H1"].path)
    assert "3 unit(s)" in h1 and "SUB-RECALL" not in h1 and "U1" in h1 and "U4" not in h1
    if cjk_font():
        assert letters["H2"].language_used == "zh-CN"
        h2 = _text(letters["H2"].path)
        assert "召回" in h2 and "下级召回" not in h2 and "U4" in h2
    import csv

    with open(res.customer_list, newline="", encoding="utf-8") as fh:
        rows = {r["customer"]: r for r in csv.DictReader(fh)}
    assert {k: (r["role"], r["units_received"], r["units"], r["units_passed_on"]) for k, r in rows.items()} == {
        k: (v[0], str(v[1]), str(v[2]), str(v[3])) for k, v in EXPECTED.items()}


def test_the_sub_recall_instruction_in_chinese(chain: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The zh-CN letter carries the same instruction (composed text; rendering needs a CJK font,
    which test_the_pass_through_letter_asks_for_a_sub_recall uses when one is installed)."""
    from tracegraph.engine.recall.notify import cjk_font, latin_font

    if not cjk_font():  # composing checks only that a font exists; any TrueType file will do
        monkeypatch.setenv("TRACEGRAPH_CJK_FONT", str(latin_font()))
    rid = _recall(chain, "RC-CHAIN-3", jurisdiction="CN-NMPA")
    rec = R.get_recall(chain, rid)
    d = next(c for c in R.customers(chain, rid) if c.id == "D")
    onward = passed_on_units(chain, rid, ["D"])["D"]
    assert sorted(u["id"] for u in onward) == ["U1", "U2", "U3", "U4", "U5"]
    assert {u["holder"] for u in onward} == {"H1", "H2"}
    blocks, meta = compose_letter(rec, d, [], language="zh-CN", passed_on=onward)
    text = "\n".join(b[0] for b in blocks)
    assert meta.language_used == "zh-CN"
    assert "下级召回" in text and "贵单位已将 5 件转发给下级客户，现仍持有 0 件" in text
    assert "共有 5 件受影响产品已交付贵单位" in text and "U3  batch LOT8  P-PUMP  -> H1" in text
    assert "已转告本通知的下级客户" in text
    h1 = next(c for c in R.customers(chain, rid) if c.id == "H1")
    blocks, _ = compose_letter(rec, h1, [], language="zh-CN")
    assert "下级召回" not in "\n".join(b[0] for b in blocks)


def test_effectiveness_waits_for_the_pass_through_acknowledgement(empty_store: Any) -> None:
    chain = load_chain(empty_store)
    rid = _recall(chain, "RC-CHAIN-4")
    R.approve(chain, APPROVER, rid, password="pw", reason="ok")
    R.start(chain, COORD, rid, quarantine=False)
    record_returns(chain, COORD, rid, "H1", "returned", scans=["U1", "U2", "U3"])
    record_returns(chain, COORD, rid, "H2", "destroyed", scans=["U4", "U5"])
    eff = effectiveness(chain, rid)
    assert eff.overall_pct == 100.0 and eff.expected == 5.0  # every field unit is accounted for ...
    assert not eff.meets_target and eff.awaiting_acknowledgement == ["D"]  # ... but D has not confirmed
    assert eff.consignees_passed_on == 1 and eff.customers_total == 3
    by = {c.customer: c for c in eff.customers}
    assert (by["D"].role, by["D"].expected, by["D"].pct, by["D"].units_passed_on) == ("passed_on", 0.0, 0.0, 5.0)
    R.complete(chain, COORD, rid)
    with pytest.raises(Conflict, match="passed units on have not acknowledged"):
        R.close(chain, APPROVER, rid, password="pw", reason="done")
    update_customer(chain, COORD, rid, "D", "sent")
    update_customer(chain, COORD, rid, "D", "acknowledged", by="Dr Weber", stock_count=0)
    eff = effectiveness(chain, rid)
    assert eff.meets_target and eff.awaiting_acknowledgement == [] and eff.customers_acknowledged == 1
    assert {c.customer: c.pct for c in eff.customers}["D"] == 100.0
    assert R.close(chain, APPROVER, rid, password="pw", reason="done").status == "closed"


def test_a_distributor_that_kept_a_case_is_both(empty_store: Any) -> None:
    """The EPCIS story of test_containers.py: D received the pallet (U1-U6), passed cases A and B
    on and keeps case C (U6); H1 returned U1 and H2 destroyed case B, so U2, U3 (at H1), U6 (at D)
    and U7 (shipped loose to H1, in transit) are in the field. Received counts every unit shipped
    to the consignee, also those that came back since; passed on only units still in the field."""
    from test_containers import H1, RESIN, D, U
    from test_containers import load as load_epcis_story

    load_epcis_story(empty_store)
    aff = identify(empty_store, ImpactCause(lots=[RESIN]))
    assert roles(aff.customers) == {D: ("both", 6.0, 1.0, 2.0), H1: ("holder", 4.0, 3.0, 0.0)}
    assert {s.id for s in aff.serials if s.customer == H1 and s.status == "at_end_user"} == {U[2], U[3]}


# --- the doors: CLI, REST and GraphQL show each consignee's role --------------------------------


@pytest.fixture(scope="module")
def users(chain: Any) -> Any:
    make_users(chain)
    return chain


def test_cli_shows_roles(users: Any, embedded_server: Any, tmp_path: Path) -> None:
    from tracegraph.cli import app

    chain = users
    runner = CliRunner()
    env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": chain.graph_name,
           "TRACEGRAPH_DATABASE_URL": "", "TRACEGRAPH_USER": role_user("qa_manager"),
           "TRACEGRAPH_PASSWORD": PASSWORD}

    def cli(*args: str) -> str:
        res = runner.invoke(app, ["recall", *args], env=env)
        assert res.exit_code == 0, res.stdout
        return res.stdout

    rid = json.loads(cli("create", "--lot", "R1", "-j", "US-FDA", "-c", "II", "--reason", "seal", "--json"))["recall"]["id"]
    shown = json.loads(cli("show", rid, "--json"))
    assert {c["id"]: (c["role"], c["units_received"], c["units"], c["units_passed_on"])
            for c in shown["customers"]} == EXPECTED
    table = runner.invoke(app, ["recall", "show", rid], env={**env, "COLUMNS": "250"}).stdout
    row = next(line for line in table.splitlines() if "MedDistrib" in line)
    assert "passed_on" in row and "5" in row
    eff = json.loads(cli("effectiveness", rid, "--json"))
    assert eff["awaiting_acknowledgement"] == ["D"] and not eff["meets_target"]


@pytest.fixture(scope="module")
def api(users: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    return make_api(users, tmp_path_factory.mktemp("chain-api"))


def test_rest_and_graphql_show_roles(api: Api) -> None:
    qa = role_user("qa_manager")
    r = api.client.post("/recalls", json={"decision": {"id": "RC-CHAIN-API", "jurisdiction": "EU-MDR",
                                                       "recall_class": "II", "reason": "seal", "responsible": qa},
                                          "cause": {"lots": ["R1"]}}, headers=api.headers("qa_manager"))
    assert r.status_code == 201, r.text
    r = api.client.get("/recalls/RC-CHAIN-API", headers=api.headers("viewer"))
    assert r.status_code == 200, r.text
    got = {c["id"]: (c["role"], c["units_received"], c["units"], c["units_passed_on"]) for c in r.json()["customers"]}
    assert got == EXPECTED
    body = api.gql('{ recall(id: "RC-CHAIN-API") { customersAffected customers { id role unitsReceived units '
                   'unitsPassedOn } } }', "viewer")
    assert not body.get("errors"), body
    rec = body["data"]["recall"]
    assert rec["customersAffected"] == 3
    assert {c["id"]: (c["role"], c["unitsReceived"], c["units"], c["unitsPassedOn"]) for c in rec["customers"]} == EXPECTED
    assert auth.authenticate(api.store, qa, PASSWORD)  # the users the doors used exist
