"""Backward trace, key resolution and the `trace` / `impact` CLI (--json contract), on the real DB."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from plantbuilder import Plant, demo_plant
from tracegraph.engine.errors import NotFound
from tracegraph.engine.trace.backward import backward_trace, resolve_key


@pytest.fixture(scope="module")
def plant_store(store):
    p = demo_plant()
    # a batch whose product is documented, started after v2 took effect, but linked to v1
    p.product("P9")
    p.documented("Product", "P9", "DMR-1@2")
    p.batch("LATE", product="P9", inputs=["L9"], started_at="2026-03-01T00:00:00.000000+00:00")
    p.documented("Batch", "LATE", "DMR-1@1")
    p.serials("LATE", 1, prefix="LATE-S")
    p.product("00812345678901")  # a real GTIN (valid check digit) for scanned-barcode look-ups
    p.batch("GS1B", product="00812345678901", inputs=["L2"])
    p.serial("GS1-UNIT-777", "GS1B", serial_no="777")
    p.calibration("CAL0", "EQ1", "2025-06-01T00:00:00.000000+00:00", "2025-12-31T00:00:00.000000+00:00")
    p.write(store)
    return store


@pytest.mark.req("REQ-TRC-001")
def test_backward_from_serial(plant_store):
    r = backward_trace(plant_store, "FIN1-S0003")
    assert r.start["id"] == "FIN1-S0003" and r.start["label"] == "Serial"
    assert {b.id for b in r.batches} == {"FIN1", "SUB1", "RW1"}  # rework loop ends
    assert {lot.id for lot in r.lots} == {"L1", "L1a", "L1b", "L2", "L3", "L9"}
    fin1 = next(b for b in r.batches if b.id == "FIN1")
    assert fin1.depth == 1 and set(fin1.inputs) == {"L3", "L9", "SUB1", "RW1"}
    l3 = next(lot for lot in r.lots if lot.id == "L3")
    assert l3.parents == ["L1b", "L2"]
    l1 = next(lot for lot in r.lots if lot.id == "L1")
    assert l1.suppliers[0].supplier == "S1" and l1.suppliers[0].date == "2026-01-05" and l1.suppliers[0].po == "PO-L1"
    assert [i.id for i in l1.inspections] == ["INS1"] and l1.inspections[0].result == "accept"
    assert {s.supplier for s in r.suppliers} == {"S1", "S2"}
    # equipment with usage window and calibration in effect (CAL1, not the older CAL0)
    (use,) = fin1.equipment
    assert use.equipment == "EQ1" and use.used_from.startswith("2026-02-01T08")
    assert use.calibration == "CAL1" and use.calibration_state == "in_calibration"
    assert use.params == '{"temp": 210}'
    # document version in effect at the start
    (doc,) = fin1.documents
    assert doc.linked == "DMR-1@1" and doc.in_effect == "DMR-1@1" and doc.matches
    # quality records attached on the way
    assert {(q.label, q.id, q.about) for q in r.quality} == {("Complaint", "CMP1", "FIN1-S0003"),
                                                              ("Deviation", "DEV1", "FIN1")}
    # sibling units sharing the suspect inputs
    assert fin1.siblings == 7 and "FIN1-S0003" not in fin1.sibling_ids
    assert r.counts["batches"] == 3 and r.counts["quality_records"] == 2


@pytest.mark.req("REQ-TRC-001")
def test_backward_out_of_calibration_and_document_mismatch(plant_store):
    r = backward_trace(plant_store, "FIN2")
    (use,) = r.batches[0].equipment
    assert use.calibration == "CAL1" and use.calibration_state == "out_of_calibration"  # due 03-01, used 03-10
    late = backward_trace(plant_store, "LATE-S0001")
    b = next(x for x in late.batches if x.id == "LATE")
    docs = {(d.linked, d.via): d for d in b.documents}
    assert docs[("DMR-1@1", "batch")].in_effect == "DMR-1@2" and not docs[("DMR-1@1", "batch")].matches
    assert docs[("DMR-1@2", "product")].matches  # the product's link is the version in effect
    assert b.equipment == []


@pytest.mark.req("REQ-TRC-001")
def test_backward_components_and_sibling_limit(plant_store):
    r = backward_trace(plant_store, "FIN1-S0001", sibling_limit=2)
    assert [s["id"] for s in r.serials] == ["SUB1-S0001"]  # its component
    assert {b.id for b in r.batches} >= {"FIN1", "SUB1"}
    fin1 = next(b for b in r.batches if b.id == "FIN1")
    assert fin1.siblings == 7 and len(fin1.sibling_ids) == 2
    sub1 = next(b for b in r.batches if b.id == "SUB1")
    assert sub1.siblings == 1  # SUB1-S0002; SUB1-S0001 is in the trace itself


@pytest.mark.req("REQ-TRC-001")
def test_backward_from_lot_and_batch(plant_store):
    r = backward_trace(plant_store, "L3")
    assert {lot.id for lot in r.lots} == {"L3", "L1b", "L1", "L2"} and r.batches == []
    r = backward_trace(plant_store, "NS1")
    assert [b.id for b in r.batches] == ["NS1"] and {lot.id for lot in r.lots} == {"L1"}


def test_resolve_key(plant_store):
    assert resolve_key(plant_store, "FIN1-S0002") == ("Serial", "FIN1-S0002")
    assert resolve_key(plant_store, "FIN1") == ("Batch", "FIN1")
    assert resolve_key(plant_store, " L1 ") == ("MaterialLot", "L1")
    assert resolve_key(plant_store, "(01)P1(21)FIN1-S0002") == ("Serial", "FIN1-S0002")  # stored UDI string
    with pytest.raises(NotFound):
        resolve_key(plant_store, "NOPE")
    with pytest.raises(NotFound):
        backward_trace(plant_store, "NOPE")


def test_resolve_scanned_barcode(plant_store):
    pytest.importorskip("tracegraph.engine.trace.scan")
    assert resolve_key(plant_store, "(01)00812345678901(21)777") == ("Serial", "GS1-UNIT-777")
    r = backward_trace(plant_store, "(01)00812345678901(21)777")
    assert r.start["id"] == "GS1-UNIT-777" and {lot.id for lot in r.lots} == {"L2"}


def test_cycle_only_plant(empty_store):
    p = Plant()
    p.lot("A")
    p.batch("X", inputs=["A"])
    p.batch("Y", batch_inputs=["X"])
    p.consume_batch("Y", "X")
    p.consume_batch("X", "X")  # self loop
    p.serials("Y", 2)
    p.write(empty_store)
    r = backward_trace(empty_store, "Y-S0001")
    assert {b.id for b in r.batches} == {"X", "Y"}
    assert [lot.id for lot in r.lots] == ["A"]


# ---------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------


@pytest.fixture()
def cli(plant_store, embedded_server):
    from tracegraph.cli import app

    runner = CliRunner()
    env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": plant_store.graph_name,
           "TRACEGRAPH_DATABASE_URL": ""}

    def invoke(*args: str) -> tuple[int, str]:
        res = runner.invoke(app, list(args), env=env)
        return res.exit_code, res.stdout

    return invoke


def test_cli_trace_back_json(cli):
    code, out = cli("trace", "back", "FIN1-S0003", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["start"]["id"] == "FIN1-S0003"
    assert {b["id"] for b in data["batches"]} == {"FIN1", "SUB1", "RW1"}
    assert isinstance(data["elapsed_ms"], float)


def test_cli_trace_forward_json_and_table(cli):
    code, out = cli("trace", "forward", "L1a", "--json")
    assert code == 0, out
    data = json.loads(out)
    for key in ("query", "counts", "batches", "serials", "customers", "elapsed_ms"):
        assert key in data
    assert {"id", "batch", "status", "customer", "path"} <= set(data["serials"][0])
    assert {"id", "name", "units", "contact"} <= set(data["customers"][0])
    code, out = cli("trace", "forward", "L1a")
    assert code == 0 and "Customers to notify" in out and "FIN1" in out
    code, out = cli("trace", "back", "FIN1-S0003")
    assert code == 0 and "DEV1" in out and "in_calibration" in out


def test_cli_impact_variants(cli, tmp_path):
    code, out = cli("impact", "--lot", "L2", "--lot", "L9", "--json")
    assert code == 0, out
    assert {b["id"] for b in json.loads(out)["batches"]} == {"FIN1", "FIN2", "OTHER", "RW1", "LATE", "GS1B"}
    code, out = cli("impact", "--supplier", "S1", "--from", "2026-03-01", "--to", "2026-03-31", "--json")
    assert {b["id"] for b in json.loads(out)["batches"]} == {"FIN1", "FIN2", "RW1", "GS1B"}
    code, out = cli("impact", "--equipment", "EQ1", "--from", "2026-03-10", "--to", "2026-03-10", "--json")
    assert {b["id"] for b in json.loads(out)["batches"]} == {"FIN2"}
    code, out = cli("impact", "--document", "DMR-1@2", "--json")
    # FIN2 directly; LATE through its product P9 (started inside v2's effective window)
    assert {b["id"] for b in json.loads(out)["batches"]} == {"FIN2", "LATE"}
    code, out = cli("impact", "--serial-range", "P1:1-2", "--as-of", "2026-02-11", "--exclude-returned", "--json")
    data = json.loads(out)
    assert {s["id"]: s["status"] for s in data["serials"]} == {"FIN1-S0001": "in_transit", "FIN1-S0002": "in_transit"}
    assert data["query"]["options"]["as_of"] == "2026-02-11"
    code, out = cli("impact", "--batch", "FIN1", "--max-depth", "0", "--json")
    assert json.loads(out)["counts"]["serials"] == 0
    xlsx, csvf = tmp_path / "r.xlsx", tmp_path / "r.csv"
    code, out = cli("impact", "--batch", "FIN1", "--xlsx", str(xlsx), "--csv", str(csvf))
    assert code == 0 and xlsx.stat().st_size > 0 and len(csvf.read_text().splitlines()) == 9


@pytest.mark.req("REQ-TRC-004")
def test_cli_impact_engines_agree(cli):
    """`--engine index` builds the trace index in the command and answers from it; the answer
    is the graph's (`--engine cypher`), whichever engine gave it."""
    answers = {}
    for engine in ("cypher", "index", "auto"):
        code, out = cli("impact", "--batch", "FIN2", "--batch", "OTHER", "--engine", engine, "--json")
        assert code == 0, out
        answers[engine] = json.loads(out)
    assert answers["index"]["engine"] == "index" and answers["cypher"]["engine"] == "cypher"
    assert answers["auto"]["engine"] == "cypher"  # TRACEGRAPH_TRACE_INDEX=auto: one-shot commands ask the graph
    for part in ("counts", "by_status", "customers"):
        assert answers["index"][part] == answers["cypher"][part]
    assert [s["id"] for s in answers["index"]["serials"]] == [s["id"] for s in answers["cypher"]["serials"]]
    code, out = cli("impact", "--batch", "FIN1", "--as-of", "2026-02-11", "--engine", "index", "--json")
    assert code == 2 and "cannot answer" in json.loads(out)["error"]["message"]
    code, out = cli("impact", "--batch", "FIN1", "--engine", "warp", "--json")
    assert code == 2 and "unknown engine" in out


@pytest.mark.req("REQ-TRC-007")
def test_cli_errors(cli):
    code, out = cli("impact", "--lot", "NOPE", "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "not_found"
    code, out = cli("impact", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "validation_failed"
    code, out = cli("impact", "--batch", "FIN1", "--edge", "BOGUS", "--json")
    assert code == 2 and "edge" in out.lower()
    code, out = cli("trace", "back", "NOPE", "--json")
    assert code == 1


def test_backward_includes_every_quality_record_about_unit_batches_and_lots(empty_store):
    """Complaints, deviations, CAPAs and change controls about the unit, its batches and its lots,
    and the CAPAs addressing those (a CAPA about the unit's batch used to be left out)."""
    p = demo_plant()
    p.quality("CAPA", "CAPA1", "Batch", "FIN1", title="moulding temperature drift")
    p.quality("ChangeControl", "CC1", "MaterialLot", "L1", title="new resin grade")
    p.quality("CAPA", "CAPA2", "Serial", "FIN2-S0001", title="not upstream of FIN1-S0003")
    p.add("CAPA", "CAPA4", title="fix for the complaint", status="open")
    p.link("ADDRESSES", "CAPA", "CAPA4", "Complaint", "CMP1")
    p.write(empty_store)
    r = backward_trace(empty_store, "FIN1-S0003")
    got = {(q.label, q.id, q.about) for q in r.quality}
    assert got == {("Complaint", "CMP1", "FIN1-S0003"), ("Deviation", "DEV1", "FIN1"), ("CAPA", "CAPA1", "FIN1"),
                   ("ChangeControl", "CC1", "L1"), ("CAPA", "CAPA4", "FIN1-S0003")}
    assert r.counts["quality_records"] == 5
