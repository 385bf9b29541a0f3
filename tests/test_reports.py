"""The regulator spreadsheet (CSV / XLSX) of an impact analysis, opened back with openpyxl."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from plantbuilder import demo_plant
from tracegraph.engine.trace import reports
from tracegraph.engine.trace.impact import impact
from tracegraph.engine.trace.models import ImpactCause, ImpactOptions


@pytest.fixture(scope="module")
def result(store):
    demo_plant().write(store)
    return impact(store, ImpactCause(lots=["L1"]), ImpactOptions(with_history=True))


@pytest.mark.req("REQ-TRC-006")
def test_xlsx_units_sheet(result, tmp_path):
    path = tmp_path / "impact.xlsx"
    n = reports.write_xlsx(result, path, generated_at="2026-04-01T00:00:00+00:00")
    assert n == len(result.serials) + len(result.quantities)
    wb = load_workbook(path)
    assert wb.sheetnames == ["units", "summary"]
    ws = wb["units"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(reports.COLUMNS)
    assert len(rows) == n + 1
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:S{n + 1}"  # 16 key data elements + container, carried_by, holders
    col = {name: i for i, name in enumerate(rows[0])}
    by_serial = {r[col["serial"]]: r for r in rows[1:] if r[col["serial"]]}
    s3 = by_serial["FIN1-S0003"]
    assert s3[col["traceability_lot_code"]] == "FIN1"
    assert s3[col["status"]] == "at_end_user"
    assert s3[col["customer_id"]] == "H1" and s3[col["location"]] == "General Hospital"
    assert s3[col["customer_email"]] == "recall@h1.example"
    assert s3[col["reference_document"]] == "SH2" and s3[col["date"]] == "2026-02-20"
    assert s3[col["quantity"]] == 1 and s3[col["unit_of_measure"]] == "ea"
    assert s3[col["provenance_path"]].startswith("L1 > ") and s3[col["provenance_path"]].endswith("FIN1-S0003")
    assert by_serial["FIN1-S0008"][col["location"]] == "WH1"
    ns = [r for r in rows[1:] if r[col["traceability_lot_code"]] == "NS1"]
    assert sorted((r[col["status"]], r[col["quantity"]]) for r in ns) == [
        ("at_distributor", 40), ("at_end_user", 20), ("in_stock", 40)]
    total_qty = sum(r[col["quantity"]] for r in rows[1:])
    assert total_qty == pytest.approx(result.counts["units"])


@pytest.mark.req("REQ-TRC-006")
def test_xlsx_summary_sheet(result, tmp_path):
    path = tmp_path / "impact.xlsx"
    reports.write_xlsx(result, path, generated_at="2026-04-01T00:00:00+00:00")
    rows = [r for r in load_workbook(path)["summary"].iter_rows(values_only=True)]
    kv = {r[0]: r[1] for r in rows if r and r[0] is not None}
    assert kv["generated_at"] == "2026-04-01T00:00:00+00:00"
    assert '"lots": ["L1"]' in kv["query"]
    assert isinstance(kv["elapsed_ms"], float)
    assert kv["in_transit"] == 1 and kv["at_distributor"] == 42
    # per customer rows and totals
    cust_rows = {r[0]: r for r in rows if r and r[0] in ("D1", "H1", "H2")}
    assert cust_rows["D1"][3] == 42 and cust_rows["D1"][1] == "Dist One"
    totals = [r for r in rows if r and r[0] == "TOTAL"]
    assert totals[0][1] == pytest.approx(result.counts["units"])  # per status
    assert totals[1][3] == pytest.approx(result.counts["units_at_customers"])  # per customer
    assert kv["P3"] == 100


@pytest.mark.req("REQ-TRC-006")
def test_csv(result, tmp_path):
    path = tmp_path / "impact.csv"
    n = reports.write_csv(result, path)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n == len(result.serials) + len(result.quantities)
    assert set(rows[0]) == set(reports.COLUMNS)
    statuses = {r["status"] for r in rows}
    assert {"at_distributor", "at_end_user", "in_transit", "returned", "destroyed", "consumed",
            "quarantined", "in_stock"} <= statuses


def test_empty_result(store, tmp_path):
    r = impact(store, ImpactCause(supplier="S1", supplied_from="2030-01-01"))
    path = tmp_path / "empty.xlsx"
    assert reports.write_xlsx(r, path) == 0
    rows = list(load_workbook(path)["units"].iter_rows(values_only=True))
    assert len(rows) == 1
