"""The synthetic plant: deterministic bytes, realistic shape, and it imports."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.imports.runner import SourceFile, run_import
from tracegraph.engine.model import RECORD_TYPES
from tracegraph.loaders.bundle import load_bundle
from tracegraph.loaders.generator import generate_bundle, generate_plant


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


def rows(folder: Path, stem: str) -> list[dict[str, str]]:
    with open(folder / f"{stem}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "plant"
    generate_bundle(out, serials=25_000, seed=5)
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    generate_bundle(tmp_path / "a", serials=3000, seed=42)
    generate_bundle(tmp_path / "b", serials=3000, seed=42)
    generate_bundle(tmp_path / "c", serials=3000, seed=43)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")
    assert len(digest(tmp_path / "a")) == len(RECORD_TYPES)  # one file per record type (containers, packing too)


def test_exact_serial_count_and_batch_sizes(plant: Path) -> None:
    serials = rows(plant, "serials")
    assert len(serials) == 25_000
    per_batch = Counter(s["batch_id"] for s in serials)
    kinds = {b["id"]: b["kind"] for b in rows(plant, "batches")}
    finished = [n for b, n in per_batch.items() if kinds[b] == "finished"]
    assert min(finished[:-1]) >= 50 and max(finished) <= 500  # the last batch may be cut short
    assert len(set(s["id"] for s in serials)) == len(serials)


def test_genealogy_shapes(plant: Path) -> None:
    kinds = {b["id"]: b["kind"] for b in rows(plant, "batches")}
    cons = rows(plant, "consumptions")
    lots_per_batch: dict[str, int] = defaultdict(int)
    for c in cons:
        if c["input_kind"] == "lot":
            lots_per_batch[c["batch_id"]] += 1
    fin = [n for b, n in lots_per_batch.items() if kinds[b] == "finished"]
    assert min(fin) >= 5 and max(fin) <= 15
    batch_edges = [(c["input_id"], c["batch_id"]) for c in cons if c["input_kind"] == "batch"]
    assert any(kinds[a] == "subassembly" and kinds[b] == "finished" for a, b in batch_edges)
    assert any(kinds[b] == "rework" for a, b in batch_edges)  # rework orders
    links = Counter(r["kind"] for r in rows(plant, "lot_links"))
    assert links["split"] > 0 and links["merge"] > 0
    comps = rows(plant, "components")
    assert len(comps) > 1000
    insp = Counter(r["result"] for r in rows(plant, "inspections"))
    assert insp["accept"] > 10 * (insp["reject"] + insp["conditional"]) > 0
    assert len(rows(plant, "inspections")) == len(rows(plant, "material_lots"))


def test_equipment_and_calibrations(plant: Path) -> None:
    cal = Counter(r["result"] for r in rows(plant, "calibrations"))
    assert cal["pass"] > 0 and cal["out_of_tolerance"] + cal["fail"] > 0
    assert len(rows(plant, "equipment_usage")) >= len(rows(plant, "batches"))


def test_distribution_shapes(plant: Path) -> None:
    customers = rows(plant, "customers")
    assert Counter(c["kind"] for c in customers)["distributor"] > 0
    assert {"en", "de", "zh-CN"} <= {c["language"] for c in customers}
    assert all(c["contact_email"] and c["contact_name"] for c in customers)
    kinds = {c["id"]: c["kind"] for c in customers}
    ships = rows(plant, "shipments")
    transfers = [s for s in ships if s["from_id"] != "SITE-BERLIN"]
    assert transfers and all(kinds[s["from_id"]] == "distributor" for s in transfers)
    assert len(rows(plant, "transfers")) == len(transfers)
    status = Counter(s["status"] for s in rows(plant, "serials"))
    for st in ("in_stock", "in_transit", "at_distributor", "at_end_user", "returned", "consumed"):
        assert status[st] > 0, st
    assert 0 < len(rows(plant, "returns")) < 0.02 * 25_000
    assert any(s["delivered_at"] == "" and s["status"] == "in_transit" for s in ships)


def test_generated_bundle_passes_validation(plant: Path) -> None:
    b = load_bundle(plant)  # raises on any problem
    assert len(b.batch.serials) == 25_000


def test_a_1k_plant_imports_in_process(empty_store: Any) -> None:
    batch = generate_plant(1000, seed=2)
    assert len(batch.serials) == 1000
    rep = run_import(empty_store, batch, Actor.system(), source_files=[SourceFile(name="generated", sha256="0" * 64)])
    assert rep.status == "committed"
    c = empty_store.run("MATCH (s:Serial) RETURN count(s) AS c")[0]["c"]
    assert c == 1000
    produced = empty_store.run("MATCH (:Batch)-[e:PRODUCED]->(:Serial) RETURN count(e) AS c")[0]["c"]
    assert produced == 1000
    assert rep.items_written == sum(v.new for v in rep.counts.values())


def test_cli_generate_json(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tracegraph.cli import app

    res = CliRunner().invoke(app, ["generate", "--serials", "500", "--seed", "9", str(tmp_path / "p"), "--json"])
    assert res.exit_code == 0, res.output
    import json

    out = json.loads(res.stdout)
    assert out["rows"]["serials"] == 500 and (tmp_path / "p" / "serials.csv").is_file()
    res = CliRunner().invoke(app, ["generate", "--serials", "10", str(tmp_path / "q"), "--format", "xml"])
    assert res.exit_code == 2


def test_generate_both_formats_calls_the_epcis_hook(tmp_path: Path) -> None:
    pytest.importorskip("tracegraph.loaders.epcis")
    stats = generate_bundle(tmp_path / "p", serials=300, seed=2, fmt="both")
    assert (tmp_path / "p" / "serials.csv").is_file()
    assert stats["epcis"] and (tmp_path / "p" / "epcis").is_dir()
