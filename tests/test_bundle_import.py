"""The ERP bundle loader and the import runner on the real embedded database: every file type
lands, every class of bad input is reported with file/row/field and nothing is written,
re-imports change nothing, dry runs write nothing, changes are audited with before/after."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from graph_snapshot import snapshot
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.imports.runner import get_import, list_imports, run_import
from tracegraph.loaders.bundle import load_bundle

FIXTURE = Path(__file__).parent / "fixtures" / "bundle_small"
ACTOR = Actor(id="u-qa", name="Quinn Auditor", roles=frozenset({"importer"}))


def head_seq(store: Any) -> int:
    return int(store.read("audit.head")[0]["seq"])


def bundle_copy(tmp_path: Path, name: str = "bundle") -> Path:
    dst = tmp_path / name
    shutil.copytree(FIXTURE, dst)
    return dst


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def imp(store: Any, path: Path, **kw: Any):
    b = load_bundle(path)
    return run_import(store, b.batch, ACTOR, source_files=b.files, **kw)


# -- the good path -------------------------------------------------------------------------------

def test_every_file_type_imports(empty_store: Any) -> None:
    rep = imp(empty_store, FIXTURE)
    assert rep.status == "committed"
    counts = {r["l"]: r["c"] for r in empty_store.run("MATCH (n) RETURN labels(n)[0] AS l, count(n) AS c")}
    assert {k: counts.get(k) for k in ("Supplier", "Material", "MaterialLot", "Inspection", "Product", "Batch",
                                       "Serial", "Equipment", "Calibration", "Customer", "Shipment", "Return",
                                       "Document")} == {
        "Supplier": 3, "Material": 4, "MaterialLot": 8, "Inspection": 5, "Product": 3, "Batch": 4, "Serial": 8,
        "Equipment": 3, "Calibration": 4, "Customer": 4, "Shipment": 4, "Return": 1, "Document": 3}
    edges = {r["t"]: r["c"] for r in empty_store.run("MATCH ()-[e]->() RETURN type(e) AS t, count(e) AS c")}
    assert edges["CONSUMED_IN"] == 8 and edges["COMPONENT_OF"] == 2 and edges["PROCESSED_ON"] == 4
    assert edges["SHIPPED_IN"] == 5 and edges["TRANSFERRED_TO"] == 1 and edges["RETURNED_IN"] == 1
    assert edges["SPLIT_INTO"] == 1 and edges["MERGED_INTO"] == 2 and edges["DOCUMENTED_BY"] == 3
    assert edges["SUPPLIED"] == 6 and edges["PRODUCED"] == 8 and edges["INSPECTED"] == 5
    # rework is a batch consumed into a batch; the sub-assembly too
    rows = empty_store.run("MATCH (a:Batch)-[e:CONSUMED_IN]->(b:Batch) RETURN a.id AS a, b.id AS b ORDER BY a")
    assert [(r["a"], r["b"]) for r in rows] == [("FG-2601", "RW-2601"), ("SA-2601", "FG-2601")]
    lot = empty_store.run("MATCH (l:MaterialLot {id: 'LOT-PC-2601'}) RETURN l")[0]["l"]
    assert lot["received_at"] == "2026-01-05T07:30:00.000000+00:00" and lot["qty_received"] == 500.0
    assert json.loads(lot["extra"]) == {"coa_number": "COA-88121"} and lot["source"] == rep.import_id
    cus = empty_store.run("MATCH (c:Customer {id: 'CUS-RUIJIN'}) RETURN c")[0]["c"]
    assert cus["name"] == "上海瑞金医院" and cus["language"] == "zh-CN"
    shp = empty_store.run("MATCH (s:Shipment {id: 'SHP-26003'}) RETURN s")[0]["s"]
    assert shp["status"] == "in_transit" and "delivered_at" not in shp


@pytest.mark.req("REQ-IMP-003")
def test_import_run_node_and_audit_entries(empty_store: Any) -> None:
    before = head_seq(empty_store)
    rep = imp(empty_store, FIXTURE)
    run = get_import(empty_store, rep.import_id)
    assert run.status == "committed" and run.result == "committed" and run.actor == "u-qa"
    assert run.started_at and run.finished_at and run.finished_at >= run.started_at
    names = {f["name"]: f["sha256"] for f in run.files}
    assert len(names) == 20 and all(len(h) == 64 for h in names.values())
    assert run.counts["serials"]["new"] == 8
    assert head_seq(empty_store) - before == rep.audit_entries > 3
    actions = [r["a"] for r in empty_store.run(
        "MATCH (e:AuditEntry)-[:ABOUT]->(r:ImportRun {id: $id}) RETURN e.action AS a ORDER BY e.seq",
        {"id": rep.import_id})]
    assert actions[0] == "import.start" and actions[-1] == "import.finish" and "import.stage" in actions
    assert [r.id for r in list_imports(empty_store)] == [rep.import_id]


@pytest.mark.req("REQ-IMP-003")
def test_reimport_changes_nothing(empty_store: Any) -> None:
    imp(empty_store, FIXTURE)
    snap = snapshot(empty_store)
    rep = imp(empty_store, FIXTURE)
    assert rep.items_written == 0
    assert all(c.new == 0 and c.changed == 0 for c in rep.counts.values())
    assert snapshot(empty_store) == snap


@pytest.mark.req("REQ-AUD-001")
def test_changed_record_is_audited_with_before_and_after(empty_store: Any, tmp_path: Path) -> None:
    imp(empty_store, FIXTURE)
    b = bundle_copy(tmp_path)
    edit(b / "material_lots.csv", "LOT-PC-2602,RM-PC-100,SUP-ACME,250,", "LOT-PC-2602,RM-PC-100,SUP-ACME,260,")
    edit(b / "equipment_usage.csv", '""torque_nm"": 1.2', '""torque_nm"": 1.4')
    before = head_seq(empty_store)
    rep = imp(empty_store, b)
    assert rep.counts["material_lots"].changed == 1 and rep.counts["edge:PROCESSED_ON"].changed == 1
    assert empty_store.run("MATCH (l:MaterialLot {id: 'LOT-PC-2602'}) RETURN l.qty_received AS q")[0]["q"] == 260.0
    assert head_seq(empty_store) > before
    changes = [c for r in empty_store.run("MATCH (e:AuditEntry) WHERE e.seq > $s RETURN e.changes AS c",
                                          {"s": before}) for c in json.loads(r["c"])]
    assert {"key": "LOT-PC-2602", "field": "MaterialLot.qty_received", "old": 250.0, "new": 260.0, "state": False} in changes
    assert any(c.get("field") == "PROCESSED_ON.params" and "1.2" in c["old"] and "1.4" in c["new"] for c in changes)


@pytest.mark.req("REQ-IMP-003")
def test_dry_run_reports_and_writes_nothing(empty_store: Any, tmp_path: Path) -> None:
    imp(empty_store, FIXTURE)
    b = bundle_copy(tmp_path)
    edit(b / "customers.csv", "Petra Schulz", "Petra Schulz-Lang")
    with (b / "serials.csv").open("a", encoding="utf-8") as fh:
        fh.write("IP-0005,,04012345000016,IP-0005,FG-2601,04012345000016,in_stock,WH-FG-1,,2031-01-31\n")
    snap, seq = snapshot(empty_store), head_seq(empty_store)
    rep = imp(empty_store, b, dry_run=True)
    assert rep.status == "dry_run"
    assert rep.counts["customers"].changed == 1 and rep.counts["customers"].unchanged == 3
    assert rep.counts["serials"].new == 1 and rep.counts["edge:PRODUCED"].new == 1
    assert {"label": "Customer", "key": "CUS-MEDDIST", "field": "contact_name", "old": "Petra Schulz",
            "new": "Petra Schulz-Lang"} in rep.changes
    assert snapshot(empty_store) == snap and head_seq(empty_store) == seq


def test_zip_bundle_imports(empty_store: Any, tmp_path: Path) -> None:
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in FIXTURE.iterdir():
            zf.write(p, f"export-2026-01/{p.name}")
    rep = imp(empty_store, z)
    assert rep.status == "committed" and rep.counts["serials"].new == 8


# -- bad input ------------------------------------------------------------------------------------

def _fails(store: Any, path: Path) -> list[tuple[str, str, str]]:
    snap = snapshot(store)
    with pytest.raises(ValidationFailed) as exc:
        imp(store, path)
    assert snapshot(store) == snap, "nothing may be written when validation fails"
    return [(p.source, p.record, p.field) for p in exc.value.problems]


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("materials.csv", "id,name,uom,spec", "id,name,spec", ("materials.csv", "row 1 (header)", "uom")),
        ("material_lots.csv", "RM-PC-100,SUP-ACME,500,", "RM-PC-100,SUP-ACME,five hundred,",
         ("material_lots.csv", "row 2", "qty_received")),
        ("batches.csv", "SA-HOUSING,4,ea", "SA-HOUSING,-4,ea", ("batches.csv", "row 2", "qty")),
        ("consumptions.csv", "lot,LOT-PC-2601,SA-2601,6.4,kg", "lot,LOT-PC-2601,SA-2601,640,kg",
         ("consumptions.csv", "row 2", "qty")),
        ("shipments.csv", "2026-01-15T10:00:00+01:00,2026-01-16T09:00:00+01:00",
         "2026-01-15T10:00:00+01:00,2026-01-14T09:00:00+01:00", ("shipments.csv", "row 2", "delivered_at")),
        ("batches.csv", "2026-01-12T06:00:00+01:00,2026-01-13T16:00:00+01:00",
         "2026-01-12T06:00:00+01:00,2026-01-11T16:00:00+01:00", ("batches.csv", "row 3", "finished_at")),
        ("equipment_usage.csv", "2026-01-13T08:00:00+01:00,2026-01-13T12:00:00+01:00",
         "2026-01-13T08:00:00+01:00,2026-01-13T07:00:00+01:00", ("equipment_usage.csv", "row 4", "to")),
        ("serials.csv", "FG-2601,04012345000016,in_stock", "FG-9999,04012345000016,in_stock",
         ("serials.csv", "row 5", "batch_id")),
        ("shipment_lines.csv", "SHP-26003,serial,AS-0001", "SHP-26003,serial,AS-0099",
         ("shipment_lines.csv", "row 6", "item_id")),
        ("suppliers.csv", "SUP-MED,MedTubing", "SUP-ACME,MedTubing", ("suppliers.csv", "row 4", "id")),
        ("inspections.csv", "2026-01-08T10:00:00Z", "2026-01-08T10:00:00", ("inspections.csv", "row 3", "date")),
        ("consumptions.csv", "lot,LOT-TUBE-331,FG-2601,6,m", "lot,LOT-TUBE-331,FG-2601,6,kg",
         ("consumptions.csv", "row 5", "uom")),
        ("components.csv", "HS-0002,IP-0002", "HS-0001,IP-0001", ("components.csv", "row 3", "component_id")),
    ],
    ids=["missing-column", "bad-type", "negative-qty", "over-consumption", "delivered-before-shipped",
         "finished-before-started", "usage-to-before-from", "dangling-reference", "dangling-line",
         "duplicate-key", "naive-timestamp", "uom-mismatch", "duplicate-edge"],
)
@pytest.mark.req("REQ-IMP-001")
def test_bad_input_is_reported_and_nothing_written(store: Any, tmp_path: Path, file: str, old: str, new: str,
                                                   expected: tuple[str, str, str]) -> None:
    b = bundle_copy(tmp_path)
    edit(b / file, old, new)
    assert expected in _fails(store, b)


@pytest.mark.req("REQ-IMP-001")
def test_every_problem_is_reported_at_once(store: Any, tmp_path: Path) -> None:
    b = bundle_copy(tmp_path)
    edit(b / "batches.csv", "SA-HOUSING,4,ea", "SA-HOUSING,-4,ea")
    edit(b / "inspections.csv", "2026-01-08T10:00:00Z", "2026-01-08T10:00:00")
    edit(b / "customers.csv", "distributor,DE", "wholesaler,DE")
    (b / "returns.csv").write_text("id,date\nRET-1,2026-01-01T00:00:00Z\n", encoding="utf-8")
    probs = _fails(store, b)
    assert ("batches.csv", "row 2", "qty") in probs and ("inspections.csv", "row 3", "date") in probs
    assert ("customers.csv", "row 2", "kind") in probs
    assert {("returns.csv", "row 1 (header)", c) for c in ("customer_id", "item_kind", "item_id")} <= set(probs)


def test_adjusted_lot_may_be_consumed_beyond_receipt(empty_store: Any, tmp_path: Path) -> None:
    b = bundle_copy(tmp_path)
    # LOT-LUER-56 is marked adjusted=true: 3000 received, 400 merged out; consume 3000 more
    with (b / "consumptions.csv").open("a", encoding="utf-8") as fh:
        fh.write("lot,LOT-LUER-56,FG-2602,3000,ea,2026-01-22T07:06:00+01:00\n")
    assert imp(empty_store, b).status == "committed"


def test_references_may_point_into_the_graph(empty_store: Any, tmp_path: Path) -> None:
    imp(empty_store, FIXTURE)
    b = tmp_path / "incremental"
    b.mkdir()
    (b / "batches.csv").write_text(
        "id,product_id,qty,uom,started_at,finished_at,kind\n"
        "FG-2603,04012345000016,1,ea,2026-02-10T06:00:00Z,2026-02-10T16:00:00Z,finished\n", encoding="utf-8")
    (b / "consumptions.csv").write_text(
        "input_kind,input_id,batch_id,qty,uom\nlot,LOT-PC-2602,FG-2603,2,kg\n", encoding="utf-8")
    rep = imp(empty_store, b)
    assert rep.counts["batches"].new == 1 and rep.counts["edge:CONSUMED_IN"].new == 1
    rows = empty_store.run("MATCH (l:MaterialLot {id: 'LOT-PC-2602'})-[:CONSUMED_IN]->(b:Batch {id: 'FG-2603'}) "
                           "RETURN count(*) AS c")
    assert rows[0]["c"] == 1


def test_cli_import_json_and_problem_exit_code(embedded_server: Any, store: Any, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tracegraph.cli import app

    monkeypatch.setenv("TRACEGRAPH_DATA_DIR", str(embedded_server.data_dir))
    monkeypatch.setenv("TRACEGRAPH_GRAPH", store.graph_name + "_cli")
    monkeypatch.setenv("TRACEGRAPH_APPENDFSYNC", embedded_server.appendfsync)
    runner = CliRunner()
    b = bundle_copy(tmp_path)
    res = runner.invoke(app, ["import", str(b), "--dry-run", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "dry_run" and out["counts"]["serials"]["new"] == 8
    edit(b / "batches.csv", "SA-HOUSING,4,ea", "SA-HOUSING,-4,ea")
    res = runner.invoke(app, ["import", str(b), "--json"])
    assert res.exit_code == 2
    err = json.loads(res.stdout)["error"]
    assert err["code"] == "validation_failed"
    assert {"source": "batches.csv", "record": "row 2", "field": "qty"}.items() <= err["problems"][0].items()


@pytest.mark.req("REQ-IMP-003")
def test_audit_chain_verifies_after_imports_and_reimports(empty_store) -> None:  # type: ignore[no-untyped-def]
    """Import entries summarise chunks; verify must accept them (and still check the chain)."""
    from tracegraph.engine.audit.chain import Actor
    from tracegraph.engine.audit.verify import verify
    from tracegraph.engine.imports.runner import run_import
    from tracegraph.loaders.generator import generate_plant

    actor = Actor("importer", "Ida Importer", frozenset({"qa"}))
    batch = generate_plant(300, seed=3)
    run_import(empty_store, batch, actor, source_files=[])
    run_import(empty_store, generate_plant(300, seed=3), actor, source_files=[])
    report = verify(empty_store)
    assert report.ok, report
    empty_store.run("MATCH (e:AuditEntry {seq: 2}) SET e.changes = '[]'")
    assert not verify(empty_store).ok
