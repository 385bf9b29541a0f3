"""One cause model: for every cause type, the scope a recall freezes equals the impact answer,
through every door (CLI, REST, GraphQL), on a generated plant in the real embedded database.

The regression behind it: `recall create --supplier X --from A --to B` stored the window as an
equipment window and ignored the receipt window (6,967 units covered where impact said 770).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from api_support import PASSWORD, Api, make_api, make_users, role_user
from tracegraph.cli import app as cli_app
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.imports.runner import run_import
from tracegraph.engine.trace.impact import impact
from tracegraph.engine.trace.models import ImpactCause, ImpactOptions
from tracegraph.loaders.generator import generate_plant

QA = role_user("qa_manager")

IMPACT_GQL = """query($c: ImpactCauseInput!) { impact(cause: $c, options: {includePaths: false}) {
  counts serials { id } quantities { batch qty status customer } } }"""
RECALL_GQL = """mutation($i: RecallInput!) { createRecall(input: $i) { id unitsCovered } }"""


@pytest.fixture(scope="module")
def plant(store: Any, embedded_server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run_import(store, generate_plant(2500, seed=11), Actor("imp", "Ida Importer", frozenset({"qa"})), source_files=[])
    make_users(store)
    api = make_api(store, tmp_path_factory.mktemp("parity"))
    env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": store.graph_name,
           "TRACEGRAPH_DATABASE_URL": "", "TRACEGRAPH_USER": QA, "TRACEGRAPH_PASSWORD": PASSWORD}
    return {"store": store, "api": api, "env": env}


def _one(store: Any, q: str) -> dict[str, Any]:
    rows = store.run(q, write=False)
    assert rows, q
    return rows[0]


def causes(store: Any) -> dict[str, tuple[dict[str, Any], list[str], dict[str, str]]]:
    """cause type -> (ImpactCause fields, CLI flags, REST query params), picked from the plant."""
    lot = _one(store, "MATCH (l:MaterialLot)-[:CONSUMED_IN]->(:Batch)-[:PRODUCED]->(:Serial) RETURN l.id AS id "
                      "ORDER BY id LIMIT 1")["id"]
    sup = _one(store, "MATCH (s:Supplier)-[r:SUPPLIED]->(l:MaterialLot)-[:CONSUMED_IN]->(:Batch) WITH s, "
                      "collect(DISTINCT r.date) AS ds WHERE size(ds) >= 2 RETURN s.id AS id, ds ORDER BY id LIMIT 1")
    days = sorted(d[:10] for d in sup["ds"])
    r_from, r_to = days[0], days[len(days) // 2]  # a window holding some of its receipts, not all
    eq = _one(store, "MATCH (b:Batch)-[p:PROCESSED_ON]->(e:Equipment) WITH e, collect(p.from) AS fs "
                     "WHERE size(fs) >= 2 RETURN e.id AS id, fs ORDER BY id LIMIT 1")
    starts = sorted(eq["fs"])
    u_from, u_to = starts[0], starts[0][:10]  # a usage window: one day from the first use
    batch = _one(store, "MATCH (b:Batch)-[:PRODUCED]->(s:Serial) WHERE s.customer_id IS NOT NULL "
                        "RETURN b.id AS id ORDER BY id LIMIT 1")["id"]
    doc = _one(store, "MATCH (:Product)-[:DOCUMENTED_BY]->(d:Document) RETURN d.id AS id ORDER BY id LIMIT 1")["id"]
    rng = _one(store, "MATCH (s:Serial) WHERE s.gtin IS NOT NULL WITH s.gtin AS g, collect(s.serial_no) AS ns "
                      "WHERE size(ns) >= 20 RETURN g, ns ORDER BY g LIMIT 1")
    ns = sorted(rng["ns"])
    srange = f"{rng['g']}:{ns[2]}-{ns[15]}"
    serials = [r["id"] for r in store.run("MATCH (s:Serial) WHERE s.customer_id IS NOT NULL RETURN s.id AS id "
                                          "ORDER BY id LIMIT 3", write=False)]
    return {
        "lot": ({"lots": [lot]}, ["--lot", lot], {"lot": lot}),
        "supplier_receipt_window": (
            {"supplier": sup["id"], "supplied_from": r_from, "supplied_to": r_to},
            ["--supplier", sup["id"], "--received-from", r_from, "--received-to", r_to],
            {"supplier": sup["id"], "received_from": r_from, "received_to": r_to}),
        # the exact flags: --from/--to with a supplier are its receipt window, in recall create too
        "supplier_from_to": (
            {"supplier": sup["id"], "supplied_from": r_from, "supplied_to": r_to},
            ["--supplier", sup["id"], "--from", r_from, "--to", r_to],
            {"supplier": sup["id"], "from": r_from, "to": r_to}),
        "equipment_usage_window": (
            {"equipment": eq["id"], "window_from": u_from, "window_to": u_to},
            ["--equipment", eq["id"], "--used-from", u_from, "--used-to", u_to],
            {"equipment": eq["id"], "used_from": u_from, "used_to": u_to}),
        "batch": ({"batches": [batch]}, ["--batch", batch], {"batch": batch}),
        "document": ({"document": doc}, ["--document", doc], {"document": doc}),
        "serial_range": ({"serial_range": srange}, ["--serial-range", srange], {"serial_range": srange}),
        "serials": ({"serials": serials}, [x for s in serials for x in ("--serial", s)], {"serial": serials}),  # type: ignore[dict-item]
    }


def _gql_cause(fields: dict[str, Any]) -> dict[str, Any]:
    names = {"supplied_from": "suppliedFrom", "supplied_to": "suppliedTo", "window_from": "windowFrom",
             "window_to": "windowTo", "serial_range": "serialRange"}
    return {names.get(k, k): v for k, v in fields.items()}


def _scope(store: Any, rid: str) -> tuple[set[str], dict[str, float], float]:
    """What a recall froze: covered serials, covered quantity per batch, units."""
    ser = {r["id"] for r in store.run("MATCH (:Recall {id: $id})-[:COVERS]->(s:Serial) RETURN s.id AS id",
                                      {"id": rid}, write=False)}
    qty = {r["id"]: float(r["qty"]) for r in store.run(
        "MATCH (:Recall {id: $id})-[c:COVERS]->(b:Batch) RETURN b.id AS id, sum(c.qty) AS qty", {"id": rid},
        write=False)}
    units = float(_one(store, f"MATCH (r:Recall {{id: '{rid}'}}) RETURN r.units_covered AS u")["u"])
    return ser, qty, units


def _decision(rid: str) -> dict[str, Any]:
    return {"id": rid, "jurisdiction": "US-FDA", "recall_class": "II", "reason": "parity test", "responsible": QA}


DOORS = ("cli", "rest", "graphql")


@pytest.mark.parametrize("kind", ["lot", "supplier_receipt_window", "supplier_from_to", "equipment_usage_window",
                                  "batch", "document", "serial_range", "serials"])
def test_frozen_recall_scope_equals_impact_on_every_door(plant: dict[str, Any], kind: str) -> None:
    store, api, env = plant["store"], plant["api"], plant["env"]
    fields, flags, query = causes(store)[kind]
    ref = impact(store, ImpactCause(**fields), ImpactOptions(include_paths=False))
    ref_serials = {s.id for s in ref.serials}
    assert ref.counts["units"] > 0, f"{kind}: the picked cause reaches nothing; the test would prove nothing"
    if kind.startswith("supplier"):  # the window really narrows the question
        wide = impact(store, ImpactCause(supplier=fields["supplier"]), ImpactOptions(include_paths=False))
        assert wide.counts["units"] > ref.counts["units"], kind
    runner = CliRunner()

    # impact through the three doors: the same answer as the engine
    res = runner.invoke(cli_app, ["impact", *flags, "--no-paths", "--json"], env=env)
    assert res.exit_code == 0, res.stdout
    assert {s["id"] for s in json.loads(res.stdout)["serials"]} == ref_serials
    r = api.client.get("/impact", params={**query, "no_paths": "true"}, headers=api.headers("qa_manager"))
    assert r.status_code == 200, r.text
    assert {s["id"] for s in r.json()["serials"]} == ref_serials and r.json()["counts"] == ref.counts
    g = api.gql(IMPACT_GQL, role="qa_manager", c=_gql_cause(fields))
    assert "errors" not in g, g
    assert {s["id"] for s in g["data"]["impact"]["serials"]} == ref_serials

    # a recall through each door freezes exactly that scope
    ref_qty: dict[str, float] = {}  # per batch: its affected serials + its non-serialised quantities
    for s in ref.serials:
        if s.batch:
            ref_qty[s.batch] = ref_qty.get(s.batch, 0.0) + 1.0
    for q in ref.quantities:
        ref_qty[q.batch] = ref_qty.get(q.batch, 0.0) + q.qty
    for door in DOORS:
        rid = f"RC-PARITY-{kind}-{door}".upper().replace("_", "-")
        if door == "cli":
            res = runner.invoke(cli_app, ["recall", "create", *flags, "-j", "US-FDA", "-c", "II", "--reason",
                                          "parity test", "--id", rid, "--json"], env=env)
            assert res.exit_code == 0, res.stdout
        elif door == "rest":
            body_cause = dict(fields)
            if kind == "supplier_receipt_window":  # the JSON body also takes the windows by their flag names
                body_cause = {"supplier": fields["supplier"], "received_from": fields["supplied_from"],
                              "received_to": fields["supplied_to"]}
            r = api.client.post("/recalls", json={"decision": _decision(rid), "cause": body_cause},
                                headers=api.headers("qa_manager"))
            assert r.status_code == 201, r.text
        else:
            out = api.gql(RECALL_GQL, role="qa_manager", i={
                "id": rid, "jurisdiction": "US-FDA", "recallClass": "II", "reason": "parity test",
                "responsible": QA, "cause": _gql_cause(fields)})
            assert "errors" not in out, out
        ser, qty, units = _scope(store, rid)
        assert ser == ref_serials, f"{kind} via {door}: the recall froze another set of units than impact"
        assert qty == pytest.approx(ref_qty), f"{kind} via {door}"
        assert units == pytest.approx(ref.counts["units"]), f"{kind} via {door}"


def test_recall_drill_scope_equals_impact(plant: dict[str, Any], tmp_path: Any) -> None:
    """`recall drill` reads the same flags the same way (supplier + --from/--to: the receipt window)."""
    store, env = plant["store"], plant["env"]
    fields, flags, _ = causes(store)["supplier_from_to"]
    ref = impact(store, ImpactCause(**fields), ImpactOptions(include_paths=False))
    res = CliRunner().invoke(cli_app, ["recall", "drill", *flags, "--out", str(tmp_path), "--letters", "1",
                                       "--json"], env=env)
    assert res.exit_code in (0, 1), res.stdout
    rep = json.loads(res.stdout)
    assert rep["units"] == pytest.approx(ref.counts["units"])


@pytest.mark.parametrize("flags,field", [
    (["--supplier", "S", "--equipment", "E", "--from", "2026-01-01"], "--from"),
    (["--lot", "L", "--to", "2026-01-01"], "--to"),
    (["--supplier", "S", "--from", "2026-01-01", "--received-from", "2026-01-01"], "--from"),
    (["--lot", "L", "--used-from", "2026-01-01"], "--used-from"),
    (["--equipment", "E", "--received-to", "2026-01-01"], "--received-to"),
])
def test_ambiguous_windows_are_refused_by_impact_recall_and_drill(plant: dict[str, Any], flags: list[str],
                                                                  field: str, tmp_path: Any) -> None:
    env = plant["env"]
    runner = CliRunner()
    for cmd in (["impact"], ["recall", "create", "-j", "US-FDA", "-c", "II", "--reason", "x"],
                ["recall", "drill", "--out", str(tmp_path)]):
        res = runner.invoke(cli_app, [*cmd, *flags, "--json"], env=env)
        assert res.exit_code == 2, (cmd, res.stdout)
        err = json.loads(res.stdout)["error"]
        assert err["code"] == "validation_failed" and err["field"] == field, (cmd, err)
    api: Api = plant["api"]
    query: dict[str, str] = {}
    it = iter(flags)
    for f in it:
        query[f.lstrip("-").replace("-", "_").replace("lot", "lot")] = next(it)
    r = api.client.get("/impact", params=query, headers=api.headers("qa_manager"))
    assert r.status_code == 422 and r.json()["error"]["field"] == field.lstrip("-").replace("-", "_"), r.text
